package io.capo.release;

import io.capo.reservation.Cidrs;
import io.capo.reservation.ClusterView;
import io.capo.reservation.PodFacts;

import java.util.Optional;

/**
 * Answers "is the pod that held this address still there with it?" from the informer cache; {@code UNKNOWN} for a
 * namespace whose pods are not watched (opted out) or not listed yet.
 */
public final class CachePodLiveness implements PodLiveness {

    private final ClusterView cluster;

    public CachePodLiveness(ClusterView cluster) {
        this.cluster = cluster;
    }

    @Override
    public State state(String namespace, String pod, String uid, String cidr) {
        // a namespace no longer watched, or whose informer is still listing, says nothing about its pods
        if (!cluster.podsSynced(namespace)) {
            return State.UNKNOWN;
        }
        Optional<PodFacts> found = cluster.pod(namespace, pod);
        if (found.isEmpty() || !found.get().uid().equals(uid)) {
            return State.GONE;
        }
        PodFacts facts = found.get();
        if (facts.terminal() || facts.containersGone()) {
            return State.GONE;
        }
        boolean holdsAddress = facts.ips().stream().map(Cidrs::tryNormalize)
                .anyMatch(c -> c.isPresent() && c.get().equals(cidr));
        if (!holdsAddress) {
            return State.GONE;
        }
        return facts.deletionRequested() ? State.TERMINATING : State.ALIVE;
    }
}
