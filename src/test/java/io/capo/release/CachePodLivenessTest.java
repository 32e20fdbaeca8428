package io.capo.release;

import io.capo.release.PodLiveness.State;
import io.capo.reservation.FixedClusterView;
import io.capo.reservation.PodFacts;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Release liveness from the cache: a miss means GONE only where the namespace's pods are watched and listed. */
class CachePodLivenessTest {

    final FixedClusterView cluster = new FixedClusterView();
    final CachePodLiveness liveness = new CachePodLiveness(cluster);

    static PodFacts pod(String namespace, String name, String uid, String ip) {
        return new PodFacts(namespace, name, uid, "node-1", Map.of(), Map.of(), List.of(ip), "Running", null,
                false, false, null, null);
    }

    @Test
    void aPodMissingFromAListedNamespaceIsGone() {
        assertThat(liveness.state("kafka", "kafka-0", "u1", "10.0.0.1/32")).isEqualTo(State.GONE);
    }

    @Test
    void aPodOfANamespaceNotWatchedOrStillListingIsUnknown() {
        cluster.unsynced.add("kafka");

        assertThat(liveness.state("kafka", "kafka-0", "u1", "10.0.0.1/32")).isEqualTo(State.UNKNOWN);
    }

    @Test
    void aCachedPodHoldingTheAddressIsAlive() {
        cluster.with(pod("kafka", "kafka-0", "u1", "10.0.0.1"));

        assertThat(liveness.state("kafka", "kafka-0", "u1", "10.0.0.1/32")).isEqualTo(State.ALIVE);
        assertThat(liveness.state("kafka", "kafka-0", "u2", "10.0.0.1/32")).isEqualTo(State.GONE);
    }
}
