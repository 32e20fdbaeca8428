package io.capo.release;

import io.capo.reservation.InMemoryLedger;
import io.capo.reservation.LedgerStoppedException;
import io.capo.reservation.Reservation;
import io.capo.testing.LogCapture;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReleaseCycleTest {

    static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");

    final InMemoryLedger ledger = new InMemoryLedger();
    final AtomicBoolean synced = new AtomicBoolean(true);
    final Map<String, Integer> released = new ConcurrentHashMap<>();
    final Map<String, Integer> failures = new ConcurrentHashMap<>();
    final Map<String, Integer> skipped = new ConcurrentHashMap<>();
    final ReleaseMetrics metrics = new ReleaseMetrics() {
        @Override
        public void released(String reason, int count) {
            released.merge(reason, count, Integer::sum);
        }

        @Override
        public void failure(String stage) {
            failures.merge(stage, 1, Integer::sum);
        }

        @Override
        public void skipped(String reason) {
            skipped.merge(reason, 1, Integer::sum);
        }
    };
    final ReleaseCycle cycle = cycle(ReleaseCycle.DEFAULT_WRITE_WAIT);

    ReleaseCycle cycle(Duration writeWait) {
        return new ReleaseCycle(ledger, (ns, pod, uid, cidr) -> PodLiveness.State.GONE, synced::get,
                () -> new ReleasePolicy(Duration.ofMinutes(40), 300, Duration.ofMinutes(5), Map.of()), metrics,
                Clock.fixed(NOW, ZoneOffset.UTC), writeWait);
    }

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
    void aCycleWaitsForItsWriteOnlyUpToTheWriteWaitAndLaterCyclesSkipUntilItCompletes() {
        park("10.0.0.1/32", "kafka", Duration.ofMinutes(41));
        ledger.applyStall = new CompletableFuture<>();
        ReleaseCycle bounded = cycle(Duration.ofMillis(200));
        long start = System.nanoTime();
        try (LogCapture log = new LogCapture()) {
            assertThat(bounded.run().count(ReleaseReason.TTL)).isEqualTo(1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            assertThat(log.atLeast(Level.WARN)).singleElement().asString()
                    .contains("write of 1 releases is still pending after 200 ms");
        }
        // the next cycles do not plan the same releases again while the write is pending
        assertThat(bounded.run().isEmpty()).isTrue();
        assertThat(bounded.run().isEmpty()).isTrue();
        assertThat(ledger.applies.get()).isEqualTo(1);
        assertThat(skipped).containsEntry(ReleaseMetrics.WRITE_PENDING, 2);
        assertThat(released).isEmpty();

        // the write completes in the background: its releases are counted then, and cycles run again
        ledger.applyStall.complete(1);
        assertThat(released).containsEntry("ttl", 1);
        ledger.applyStall = null;
        assertThat(bounded.run().count(ReleaseReason.TTL)).isEqualTo(1);
        assertThat(ledger.applies.get()).isEqualTo(2);
    }

    @Test
    void aFailedWriteIsLoggedWithItsClassAndCauseEvenWithoutMessage() {
        park("10.0.0.1/32", "kafka", Duration.ofMinutes(41));
        ledger.applyStall = CompletableFuture.failedFuture(new IllegalStateException("writer stopped",
                new java.util.concurrent.TimeoutException()));
        try (LogCapture log = new LogCapture()) {
            cycle.run();
            assertThat(log.atLeast(Level.ERROR)).singleElement().asString()
                    .contains("release cycle could not write 1 releases")
                    .contains("IllegalStateException: writer stopped; caused by java.util.concurrent.TimeoutException")
                    .doesNotContain(": null");
        }
        assertThat(failures).containsEntry("release", 1);
        assertThat(released).isEmpty();
        assertThat(ledger.entries).containsKey("10.0.0.1/32");

        ledger.applyStall = CompletableFuture.failedFuture(new NullPointerException());
        try (LogCapture log = new LogCapture()) {
            cycle.run();
            assertThat(log.atLeast(Level.ERROR)).singleElement().asString()
                    .endsWith(": java.lang.NullPointerException");
        }
    }

    @Test
    void aWriteDroppedBecauseCapoStopsIsAWarningNotAFailure() {
        park("10.0.0.1/32", "kafka", Duration.ofMinutes(41));
        ledger.applyStall = CompletableFuture.failedFuture(new LedgerStoppedException("Capo is stopping"));
        try (LogCapture log = new LogCapture()) {
            cycle.run();
            assertThat(log.atLeast(Level.ERROR)).isEmpty();
            assertThat(log.atLeast(Level.WARN)).singleElement().asString()
                    .contains("Capo stopped before the write of 1 releases completed");
        }
        assertThat(failures).isEmpty();
        assertThat(released).isEmpty();
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
