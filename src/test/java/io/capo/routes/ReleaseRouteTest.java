package io.capo.routes;

import io.capo.calico.CalicoApi;
import io.capo.calico.CalicoReservationStore;
import io.capo.calico.GoCapoAdoption;
import io.capo.leader.LeaseClusterService;
import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationRequest;
import io.capo.testing.CapoInstance;
import io.capo.testing.LogCapture;
import io.capo.testing.MockCluster;
import io.capo.testing.TestCertificates;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The release route: leader only, TTL and max count, and adoption of the Go Capo's reservations. */
class ReleaseRouteTest {

    @TempDir
    Path dir;
    final MockCluster cluster = new MockCluster();
    final TestCertificates certificates = new TestCertificates("release-ca");
    final List<CapoInstance> instances = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (CapoInstance instance : instances) {
            instance.close();
        }
        cluster.close();
    }

    CapoInstance start(String identity, String... settings) throws Exception {
        CapoInstance.Builder builder = CapoInstance.builder(cluster.newClient(),
                certificates.writeServing(dir.resolve(identity), "capo")).identity(identity);
        for (int i = 0; i < settings.length; i += 2) {
            builder.setting(settings[i], settings[i + 1]);
        }
        CapoInstance instance = builder.start();
        instances.add(instance);
        return instance;
    }

    static boolean leads(CapoInstance instance) {
        CamelContext context = instance.context();
        return context.hasService(LeaseClusterService.class).isLeader();
    }

    static double released(CapoInstance instance) throws Exception {
        return instance.get("/observe/metrics").body().lines()
                .filter(l -> l.startsWith("capo_releases_total{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    static void park(CapoInstance instance, String cidr, Instant goneAt) throws Exception {
        instance.bean("reservationStore", CalicoReservationStore.class).reserve(new ReservationRequest("kafka",
                "p-" + cidr, "uid-" + cidr, "n", List.of(cidr), "delete", goneAt, goneAt, null))
                .get(5, TimeUnit.SECONDS);
    }

    @Test
    void onlyTheLeaderReleasesExpiredAndSurplusAddressesOldestFirst() throws Exception {
        CapoInstance a = start("capo-a", "ipReserveTime", "1m", "ipReserveMaxCount", "2");
        CapoInstance b = start("capo-b", "ipReserveTime", "1m", "ipReserveMaxCount", "2");
        await().until(() -> leads(a) ^ leads(b));
        CapoInstance leader = leads(a) ? a : b;
        CapoInstance follower = leader == a ? b : a;

        Instant now = Instant.now();
        park(follower, "10.30.0.1/32", now.minus(Duration.ofMinutes(5)));   // expired
        park(follower, "10.30.0.2/32", now.minusSeconds(30));                // oldest of the rest
        park(follower, "10.30.0.3/32", now.minusSeconds(20));
        park(follower, "10.30.0.4/32", now.minusSeconds(10));

        CalicoReservationStore store = leader.bean("reservationStore", CalicoReservationStore.class);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(store.held())
                .extracting(Reservation::cidr).containsExactlyInAnyOrder("10.30.0.3/32", "10.30.0.4/32"));
        assertThat(released(leader)).isEqualTo(2.0);
        assertThat(released(follower)).isZero();
        assertThat(leader.get("/observe/metrics").body()).contains("ip_reserve_evictions_count 1.0",
                "capo_releases_total{reason=\"ttl\"} 1.0", "capo_releases_total{reason=\"max-count\"} 1.0",
                "leader_election_master_status{name=\"capo\"} 1.0");
        assertThat(follower.get("/observe/metrics").body()).contains("leader_election_master_status{name=\"capo\"} 0.0");
    }

    /**
     * A release write that cannot complete (the API server is gone) must not hold the release route past the
     * shutdown timeout: Camel would force the stop and its Quartz job log a RejectedExecutionException as an error.
     */
    @Test
    void aStopDuringAStuckReleaseWriteIsCleanAndQuick() throws Exception {
        // a Lease that outlives the outage long enough for one release cycle to run into it
        CapoInstance capo = start("capo-stuck", "ipReserveTime", "2s", "leaderElection.leaseDuration", "15s",
                "leaderElection.renewDeadline", "12s", "leaderElection.retryPeriod", "1s");
        await().until(() -> leads(capo));
        park(capo, "10.30.1.1/32", Instant.now().minusSeconds(60));
        await().atMost(Duration.ofSeconds(20)).until(() -> released(capo) == 1.0);
        park(capo, "10.30.1.2/32", Instant.now());
        try (LogCapture log = new LogCapture()) {
            cluster.close();
            await().atMost(Duration.ofSeconds(30)).until(() -> log.lines().stream()
                    .anyMatch(line -> line.contains("is still pending after 2500 ms")));
            long start = System.nanoTime();
            instances.remove(capo);
            capo.close();
            Duration stop = Duration.ofNanos(System.nanoTime() - start);
            assertThat(log.lines()).noneMatch(line -> line.contains("RejectedExecutionException"));
            assertThat(log.lines()).noneMatch(line -> line.startsWith("ERROR io.capo"));
            // camel.main.shutdownTimeout is 5 s in the tests; a forced stop would take at least that
            assertThat(stop).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void goCapoReservationsAreAdoptedAndReleasedByTheirOriginalTimestamp() throws Exception {
        ZoneId zone = ZoneId.systemDefault();
        String old = LocalDateTime.now(zone).minusHours(2).format(java.time.format.DateTimeFormatter
                .ofPattern("yyyy-MM-dd-HH:mm:ss"));
        String recent = LocalDateTime.now(zone).minusMinutes(1).format(java.time.format.DateTimeFormatter
                .ofPattern("yyyy-MM-dd-HH:mm:ss"));
        GenericKubernetesResource goObject = new GenericKubernetesResourceBuilder()
                .withApiVersion("projectcalico.org/v3").withKind("IPReservation")
                .withNewMetadata().withName("ip-reserve-delay-release").endMetadata()
                .addToAdditionalProperties("spec", Map.of("reservedCIDRs", List.of("1.1.1.1", "10.40.0.1", "10.40.0.2")))
                .build();
        cluster.client().genericKubernetesResources(new CalicoApi(CalicoApi.V3).context()).resource(goObject).create();
        cluster.client().configMaps().inNamespace(cluster.client().getNamespace()).resource(new ConfigMapBuilder().withNewMetadata()
                .withName("ip-reserve-delay-release").endMetadata()
                .withData(Map.of("10.40.0.1", "kafka_kafka-0_node-1_" + old, "10.40.0.2", "kafka_kafka-1_node-2_" + recent))
                .build()).create();

        CapoInstance capo = start("capo-go", "ipReserveTime", "40m");
        CalicoReservationStore store = capo.bean("reservationStore", CalicoReservationStore.class);

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(store.held())
                .extracting(Reservation::cidr).containsExactly("10.40.0.2/32"));
        Reservation adopted = store.find("10.40.0.2/32").orElseThrow();
        assertThat(adopted.reason()).isEqualTo("adopted");
        assertThat(adopted.namespace()).isEqualTo("kafka");
        assertThat(adopted.pod()).isEqualTo("kafka-1");
        assertThat(adopted.node()).isEqualTo("node-2");
        GenericKubernetesResource object = cluster.client().genericKubernetesResources(new CalicoApi(CalicoApi.V3)
                .context()).withName("ip-reserve-delay-release").get();
        assertThat(object.getMetadata().getAnnotations()).containsKey(GoCapoAdoption.ADOPTED_ANNOTATION);
        @SuppressWarnings("unchecked")
        List<String> cidrs = (List<String>) ((Map<String, Object>) object.getAdditionalProperties().get("spec"))
                .get("reservedCIDRs");
        assertThat(cidrs).containsExactly("10.40.0.2/32");
    }
}
