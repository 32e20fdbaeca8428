package io.capo.leader;

import java.util.Objects;

import org.apache.camel.cluster.CamelClusterMember;

/** The local instance, or the holder named in the Lease; leadership is read live from the service. */
final class LeaseClusterMember implements CamelClusterMember {

    private final LeaseClusterService service;
    private final String id;
    private final boolean local;

    LeaseClusterMember(LeaseClusterService service, String id, boolean local) {
        this.service = service;
        this.id = id;
        this.local = local;
    }

    @Override
    public String getId() {
        return id;
    }

    @Override
    public boolean isLocal() {
        return local;
    }

    @Override
    public boolean isLeader() {
        return local ? service.isLeader() : !service.isLeader() && id.equals(service.holder());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LeaseClusterMember other && id.equals(other.id) && local == other.local;
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, local);
    }

    @Override
    public String toString() {
        return "LeaseClusterMember{id=" + id + ", local=" + local + "}";
    }
}
