package io.capo.events;

import io.capo.reservation.SelectorRequirement;
import io.capo.reservation.FixedClusterView;
import io.capo.reservation.InMemoryLedger;
import io.capo.reservation.NamespaceFacts;
import io.capo.reservation.PodEvent;
import io.capo.reservation.PodFacts;
import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationReason;
import io.capo.reservation.SelectionPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class PodEventBackstopTest {

    static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
    static final Duration RECENT = Duration.ofMinutes(40);
    static final SelectionPolicy SELECTION = new SelectionPolicy("ip-reserve", "enabled",
            List.of(SelectorRequirement.exists("statefulset.kubernetes.io/pod-name")), true);

    final FixedClusterView cluster = new FixedClusterView()
            .with(new NamespaceFacts("kafka", Map.of("ip-reserve", "enabled"), false));
    final InMemoryLedger ledger = new InMemoryLedger();
    final AtomicInteger late = new AtomicInteger();
    final PodEventBackstop backstop = new PodEventBackstop(cluster, ledger, () -> SELECTION, () -> RECENT,
            new BackstopMetrics() {
                @Override
                public void reserved(String reason, int count) {
                }

                @Override
                public void late(int count) {
                    late.addAndGet(count);
                }

                @Override
                public void failure(String stage) {
                }
            }, Clock.fixed(NOW, ZoneOffset.UTC));

    static PodFacts pod(String name, String phase, String reason, Instant endedAt, String... ips) {
        return new PodFacts("kafka", name, "uid-" + name, "node-1", Map.of("statefulset.kubernetes.io/pod-name", name),
                Map.of(), List.of(ips), phase, reason, false, "Failed".equals(phase), null, endedAt);
    }

    static PodFacts running(String name, String... ips) {
        return pod(name, "Running", "", null, ips);
    }

    @ParameterizedTest
    @CsvSource({
            "MODIFIED, Running, Failed, Evicted, kubelet-eviction",
            "MODIFIED, Running, Failed, Terminated, pod-terminated",
            "MODIFIED, Running, Failed, NodeShutdown, pod-terminated",
            "MODIFIED, Running, Succeeded, '', pod-terminated",
            "MODIFIED, Failed, Failed, Evicted, ",
            "MODIFIED, Running, Running, '', ",
            "DELETED, , Running, '', late"
    })
    void decidesWhatAPodChangeMeans(String type, String beforePhase, String phase, String reason, String expected) {
        PodFacts before = beforePhase == null ? null : pod("p", beforePhase, "", null, "10.0.0.1");
        PodFacts after = pod("p", phase, reason, null, "10.0.0.1");
        assertThat(PodEventBackstop.decide(type, before, after, NOW, RECENT).orElse(null)).isEqualTo(expected);
    }

    @Test
    void podEndedLongBeforeCapoSawItIsNotParked() {
        PodFacts old = pod("p", "Failed", "Evicted", NOW.minus(Duration.ofDays(2)), "10.0.0.1");
        PodFacts recent = pod("p", "Failed", "Evicted", NOW.minus(Duration.ofMinutes(3)), "10.0.0.1");
        PodFacts unknown = pod("p", "Failed", "Evicted", null, "10.0.0.1");
        assertThat(PodEventBackstop.decide("ADDED", null, old, NOW, RECENT)).isEmpty();
        assertThat(PodEventBackstop.decide("ADDED", null, unknown, NOW, RECENT)).isEmpty();
        assertThat(PodEventBackstop.decide("ADDED", null, recent, NOW, RECENT)).contains("kubelet-eviction");
    }

    @Test
    void kubeletEvictionParksTheIpWithItsTtlStartingNow() throws Exception {
        backstop.onPodEvent(new PodEvent("MODIFIED", running("kafka-0", "10.0.0.1"),
                pod("kafka-0", "Failed", "Evicted", null, "10.0.0.1"))).get(1, TimeUnit.SECONDS);
        Reservation entry = ledger.entries.get("10.0.0.1/32");
        assertThat(entry.reason()).isEqualTo(ReservationReason.KUBELET_EVICTION);
        assertThat(entry.goneAt()).isEqualTo(NOW);
        assertThat(late.get()).isZero();
    }

    @Test
    void unparkedPodThatDisappearsIsParkedLateAndCounted() throws Exception {
        backstop.onPodEvent(new PodEvent("DELETED", null, running("kafka-0", "10.0.0.1", "fd00::1")))
                .get(1, TimeUnit.SECONDS);
        assertThat(ledger.entries).containsOnlyKeys("10.0.0.1/32", "fd00::1/128");
        assertThat(ledger.entries.get("10.0.0.1/32").reason()).isEqualTo(ReservationReason.LATE);
        assertThat(late.get()).isEqualTo(2);
    }

    @Test
    void deletionOfAParkedPodStartsItsTtlWithoutCountingLate() throws Exception {
        PodFacts pod = running("kafka-0", "10.0.0.1");
        ledger.entries.put("10.0.0.1/32", new Reservation("10.0.0.1/32", "kafka", "kafka-0", pod.uid(), "node-1",
                "delete", NOW.minusSeconds(30), null, null));
        backstop.onPodEvent(new PodEvent("DELETED", null, pod)).get(1, TimeUnit.SECONDS);
        assertThat(ledger.entries.get("10.0.0.1/32").goneAt()).isEqualTo(NOW);
        assertThat(ledger.entries.get("10.0.0.1/32").reason()).isEqualTo("delete");
        assertThat(late.get()).isZero();
    }

    @Test
    void podsOfUnselectedOrDeletedNamespacesAreLeftAlone() throws Exception {
        cluster.with(new NamespaceFacts("kafka", Map.of("ip-reserve", "enabled"), true));
        backstop.onPodEvent(new PodEvent("DELETED", null, running("kafka-0", "10.0.0.1"))).get(1, TimeUnit.SECONDS);
        cluster.with(new NamespaceFacts("kafka", Map.of(), false));
        backstop.onPodEvent(new PodEvent("DELETED", null, running("kafka-1", "10.0.0.2"))).get(1, TimeUnit.SECONDS);
        assertThat(ledger.entries).isEmpty();
    }

    @Test
    void deletedNodeParksEverySelectedRunningPodOnIt() throws Exception {
        cluster.with(running("kafka-0", "10.0.0.1")).with(running("kafka-1", "10.0.0.2"))
                .with(pod("kafka-2", "Failed", "Evicted", null, "10.0.0.3"))
                .with(new PodFacts("kafka", "web-0", "uid-web", "node-1", Map.of("app", "web"), Map.of(),
                        List.of("10.0.0.4"), "Running", "", false, false, null, null))
                .with(new PodFacts("kafka", "kafka-9", "uid-9", "node-2",
                        Map.of("statefulset.kubernetes.io/pod-name", "kafka-9"), Map.of(), List.of("10.0.0.9"),
                        "Running", "", false, false, null, null));
        backstop.onNodeDeleted("node-1").get(1, TimeUnit.SECONDS);
        assertThat(ledger.entries).containsOnlyKeys("10.0.0.1/32", "10.0.0.2/32");
        assertThat(ledger.entries.values()).extracting(Reservation::reason).containsOnly(ReservationReason.NODE_DELETED);
        assertThat(ledger.entries.values()).extracting(Reservation::goneAt).containsOnlyNulls();
    }
}
