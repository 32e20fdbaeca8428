package io.capo.release;

import io.capo.reservation.InMemoryLedger;
import io.capo.reservation.Reservation;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReleaseCycleTest {

    static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");

    final InMemoryLedger ledger = new InMemoryLedger();
    final AtomicBoolean synced = new AtomicBoolean(true);
    final Map<String, Integer> released = new ConcurrentHashMap<>();
    final ReleaseCycle cycle = new ReleaseCycle(ledger, (ns, pod, uid, cidr) -> PodLiveness.State.GONE, synced::get,
            () -> new ReleasePolicy(Duration.ofMinutes(40), 300, Duration.ofMinutes(5), Map.of()),
            new ReleaseMetrics() {
                @Override
                public void released(String reason, int count) {
                    released.merge(reason, count, Integer::sum);
                }

                @Override
                public void failure(String stage) {
                }
            }, Clock.fixed(NOW, ZoneOffset.UTC));

    void park(String cidr, String namespace, Duration goneAgo) {
        ledger.entries.put(cidr, new Reservation(cidr, namespace, "p-" + cidr, "uid-" + cidr, "n", "delete",
                NOW.minus(goneAgo).minusSeconds(5), NOW.minus(goneAgo), null));
    }

    @Test
    void releasesExpiredEntriesAndCountsThem() {
        park("10.0.0.1/32", "kafka", Duration.ofMinutes(41));
        park("10.0.0.2/32", "kafka", Duration.ofMinutes(10));
        ReleasePlan plan = cycle.run();
        assertThat(plan.count(ReleaseReason.TTL)).isEqualTo(1);
        assertThat(ledger.entries).containsOnlyKeys("10.0.0.2/32");
        assertThat(released).containsEntry("ttl", 1);
    }

    @Test
    void routeOverridesApplyPerCall() {
        park("10.0.0.1/32", "kafka", Duration.ofMinutes(41));
        park("10.0.0.2/32", "redis", Duration.ofMinutes(41));
        park("10.0.0.3/32", "redis", Duration.ofMinutes(5));
        cycle.run("1h", null, "redis=2m");
        assertThat(ledger.entries).containsOnlyKeys("10.0.0.1/32");
    }

    @Test
    void maxCountOverrideReleasesOldestFirst() {
        park("10.0.0.1/32", "kafka", Duration.ofMinutes(3));
        park("10.0.0.2/32", "kafka", Duration.ofMinutes(2));
        park("10.0.0.3/32", "kafka", Duration.ofMinutes(1));
        cycle.run(null, 1, null);
        assertThat(ledger.entries).containsOnlyKeys("10.0.0.3/32");
        assertThat(released).containsEntry("max-count", 2);
    }

    @Test
    void nothingHappensUntilTheCachesAreSynced() {
        park("10.0.0.1/32", "kafka", Duration.ofHours(5));
        synced.set(false);
        assertThat(cycle.run().isEmpty()).isTrue();
        assertThat(ledger.entries).hasSize(1);
    }

    @Test
    void malformedNamespaceTtlNamesThePair() {
        assertThatThrownBy(() -> ReleaseCycle.parseNamespaceTtl("kafka=2h, redis")).hasMessageContaining("'redis'");
        assertThat(ReleaseCycle.parseNamespaceTtl(" kafka=2h , redis=90m ,"))
                .containsEntry("kafka", Duration.ofHours(2)).containsEntry("redis", Duration.ofMinutes(90));
    }

    @Test
    void everyCycleLetsTheLedgerRepairHalfDoneWritesFirst() {
        cycle.run();
        cycle.run();
        assertThat(ledger.repairs.get()).isEqualTo(2);
    }
}
