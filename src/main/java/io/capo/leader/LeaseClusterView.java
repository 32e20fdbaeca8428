package io.capo.leader;

import java.util.List;
import java.util.Optional;

import org.apache.camel.cluster.CamelClusterMember;
import org.apache.camel.support.cluster.AbstractCamelClusterView;

/** A camel-master namespace; every namespace shares the service's single Lease. */
final class LeaseClusterView extends AbstractCamelClusterView {

    private final LeaseClusterService service;

    LeaseClusterView(LeaseClusterService service, String namespace) {
        super(service, namespace);
        this.service = service;
    }

    @Override
    public Optional<CamelClusterMember> getLeader() {
        return Optional.ofNullable(service.leaderMember());
    }

    @Override
    public CamelClusterMember getLocalMember() {
        return service.localMember();
    }

    @Override
    public List<CamelClusterMember> getMembers() {
        return service.members();
    }

    void leadershipChanged(CamelClusterMember leader) {
        fireLeadershipChangedEvent(leader);
    }
}
