package io.capo.calico;

import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationRequest;
import io.capo.reservation.ReserveResult;
import io.capo.testing.MockCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class CalicoReservationStoreTest {

    static final Instant T0 = Instant.parse("2026-11-26T10:00:00Z");
    static final String NAME = "ip-reserve-delay-release";
    static final String NS = "capo";
    static final Duration GRACE = Duration.ofSeconds(30);

    final MockCluster cluster = new MockCluster();
    final CountingStoreMetrics metrics = new CountingStoreMetrics();
    final List<CalicoReservationStore> stores = new ArrayList<>();

    CalicoReservationStore store(KubernetesClient client, String api, int objects, int maxEntries) {
        CalicoReservationStore store = new CalicoReservationStore(client, new CalicoApi(api), NS, NAME, objects,
                maxEntries, GRACE, metrics);
        store.start();
        await().until(store::synced);
        stores.add(store);
        return store;
    }

    CalicoReservationStore store() {
        return store(cluster.client(), CalicoApi.V3, 1, 900);
    }

    @AfterEach
    void tearDown() {
        stores.forEach(CalicoReservationStore::close);
        cluster.close();
    }

    static ReservationRequest request(String pod, String uid, String... cidrs) {
        return new ReservationRequest("kafka", pod, uid, "node-1", List.of(cidrs), "delete", T0, null, null);
    }

    GenericKubernetesResource object(String api, String name) {
        return cluster.client().genericKubernetesResources(new CalicoApi(api).context()).withName(name).get();
    }

    GenericKubernetesResource reservedIp(String cidr) {
        return cluster.client().genericKubernetesResources(ReservedIps.context()).inNamespace(NS)
                .withName(ReservedIps.name(cidr)).get();
    }

    Reservation stored(String cidr) {
        GenericKubernetesResource r = reservedIp(cidr);
        return r == null ? null : ReservedIps.from(r);
    }

    @SuppressWarnings("unchecked")
    static List<String> cidrs(GenericKubernetesResource object) {
        return (List<String>) ((Map<String, Object>) object.getAdditionalProperties().get("spec")).get("reservedCIDRs");
    }

    @Test
    void theObjectHoldsCidrsOnlyAndTheMetadataFollowsInReservedIps() throws Exception {
        CalicoReservationStore store = store();
        ReserveResult result = store.reserve(request("kafka-0", "uid-0", "10.0.0.1/32", "fd00::1/128"))
                .get(5, TimeUnit.SECONDS);

        assertThat(result.added()).isEqualTo(2);
        assertThat(metrics.writes.get()).isEqualTo(1);
        GenericKubernetesResource object = object(CalicoApi.V3, NAME);
        assertThat(object.getApiVersion()).isEqualTo("projectcalico.org/v3");
        assertThat(cidrs(object)).containsExactly("10.0.0.1/32", "fd00::1/128");
        assertThat(object.getMetadata().getAnnotations()).containsOnlyKeys(ReservationObject.FORMAT_ANNOTATION);

        await().untilAsserted(() -> assertThat(stored("10.0.0.1/32")).isEqualTo(new Reservation("10.0.0.1/32",
                "kafka", "kafka-0", "uid-0", "node-1", "delete", T0, null, null)));
        assertThat(reservedIp("fd00::1/128").getMetadata().getName()).isEqualTo("fd00--1-128");
        assertThat(reservedIp("10.0.0.1/32").getMetadata().getLabels()).containsEntry(ReservedIps.SET_LABEL, NAME);
        assertThat(store.find("10.0.0.1/32")).isPresent();
    }

    @Test
    void repeatedReservationOfTheSamePodWritesNothing() throws Exception {
        CalicoReservationStore store = store();
        store.reserve(request("kafka-0", "uid-0", "10.0.0.1/32")).get(5, TimeUnit.SECONDS);
        await().until(() -> metrics.metadataWrites.get() == 1);
        ReserveResult again = store.reserve(request("kafka-0", "uid-0", "10.0.0.1/32")).get(5, TimeUnit.SECONDS);

        assertThat(again).isEqualTo(new ReserveResult(0, 0, 1));
        assertThat(metrics.writes.get()).isEqualTo(1);
        assertThat(metrics.metadataWrites.get()).isEqualTo(1);
    }

    @Test
    void concurrentReservationsAreGroupCommittedAndNoneIsLost() throws Exception {
        CalicoReservationStore store = store();
        List<CompletableFuture<ReserveResult>> futures = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            futures.add(store.reserve(request("pod-" + i, "uid-" + i, "10.1." + (i / 250) + "." + (i % 250 + 1) + "/32")));
        }
        for (CompletableFuture<ReserveResult> f : futures) {
            assertThat(f.get(30, TimeUnit.SECONDS).added()).isEqualTo(1);
        }
        assertThat(cidrs(object(CalicoApi.V3, NAME))).hasSize(300).doesNotHaveDuplicates();
        assertThat(metrics.writes.get()).isLessThan(300);
        await().atMost(Duration.ofSeconds(60)).until(() -> metrics.metadataWrites.get() == 300);
        assertThat(store.held()).hasSize(300);
    }

    @Test
    void twoReplicasWritingAtOnceLoseNothing() throws Exception {
        CalicoReservationStore a = store();
        CalicoReservationStore b = store(cluster.newClient(), CalicoApi.V3, 1, 900);
        List<CompletableFuture<ReserveResult>> futures = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            CalicoReservationStore store = i % 2 == 0 ? a : b;
            futures.add(store.reserve(request("pod-" + i, "uid-" + i, "10.2.0." + (i + 1) + "/32")));
        }
        for (CompletableFuture<ReserveResult> f : futures) {
            f.get(30, TimeUnit.SECONDS);
        }
        assertThat(cidrs(object(CalicoApi.V3, NAME))).hasSize(100).doesNotHaveDuplicates();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(a.held()).hasSize(100));
    }

    @Test
    void aReplicaSeesWhenAnotherOneWritesTheSameObject() throws Exception {
        CalicoReservationStore a = store();
        CalicoReservationStore b = store(cluster.newClient(), CalicoApi.V3, 1, 900);
        a.reserve(request("pod-1", "uid-1", "10.3.0.1/32")).get(10, TimeUnit.SECONDS);
        a.reserve(request("pod-2", "uid-2", "10.3.0.2/32")).get(10, TimeUnit.SECONDS);
        // its own writes are no competition
        assertThat(a.objects().contended(NAME, TimeUnit.SECONDS.toNanos(10))).isFalse();

        await().until(() -> b.find("10.3.0.2/32").isPresent());
        b.reserve(request("pod-3", "uid-3", "10.3.0.3/32")).get(10, TimeUnit.SECONDS);

        await().until(() -> a.objects().contended(NAME, TimeUnit.SECONDS.toNanos(10)));
        assertThat(a.objects().contended(NAME, 0)).as("only within the window").isFalse();
    }

    @Test
    void aCidrWithoutMetadataIsRepairedAfterTheGraceAndHeldAFullTtlFromThen() throws Exception {
        CalicoReservationStore store = store();
        store.reserve(request("kafka-0", "uid-0", "10.0.0.1/32")).get(5, TimeUnit.SECONDS);
        // a replica that crashed between its two writes: the CIDR is parked, its ReservedIP never written
        GenericKubernetesResource object = object(CalicoApi.V3, NAME);
        ((Map<String, Object>) object.getAdditionalProperties().get("spec"))
                .put("reservedCIDRs", List.of("10.0.0.1/32", "10.0.0.7/32", "10.9.0.0/24"));
        cluster.client().genericKubernetesResources(new CalicoApi(CalicoApi.V3).context()).resource(object).update();
        await().untilAsserted(() -> assertThat(store.objects().snapshot(NAME).view().cidrs()).contains("10.0.0.7/32"));
        await().until(() -> store.find("10.0.0.1/32").isPresent() && metrics.metadataWrites.get() == 1);

        Instant t1 = T0.plusSeconds(3600);
        assertThat(store.repair(t1)).as("within the grace: another replica may still be writing it").isZero();
        assertThat(store.held()).extracting(Reservation::cidr).containsExactly("10.0.0.1/32");
        assertThat(store.repair(t1.plus(GRACE))).isEqualTo(1);

        Reservation repaired = new Reservation("10.0.0.7/32", "", "", "", "", "repaired", t1.plus(GRACE), null, null);
        assertThat(store.find("10.0.0.7/32")).contains(repaired);
        await().untilAsserted(() -> assertThat(stored("10.0.0.7/32")).isEqualTo(repaired));
        assertThat(store.repair(t1.plus(GRACE.multipliedBy(3)))).isZero();
        assertThat(store.find("10.9.0.0/24")).as("a wider CIDR is not Capo's: never repaired, never released")
                .isEmpty();
    }

    /** The leader's repair racing the replica that parked the address: the entry naming the pod wins. */
    @Test
    void aRepairNeverReplacesTheEntryOfTheReplicaThatParkedTheAddress() throws Exception {
        CalicoReservationStore leader = store();
        Reservation real = new Reservation("10.0.0.9/32", "kafka", "kafka-9", "uid-9", "node-1", "delete", T0,
                T0.plusSeconds(5), java.time.Duration.ofHours(2));
        cluster.client().genericKubernetesResources(ReservedIps.context()).inNamespace(NS)
                .resource(ReservedIps.toResource(real, NS, NAME, NAME)).create();
        Reservation repaired = new Reservation("10.0.0.9/32", "", "", "", "", "repaired", T0.plusSeconds(60), null,
                null);

        // whether or not this replica's informer has seen the other entry yet, the repair must not replace it
        leader.metadata().put(repaired, NAME).get(5, TimeUnit.SECONDS);

        assertThat(stored("10.0.0.9/32")).isEqualTo(real);
        await().untilAsserted(() -> assertThat(leader.metadata().entry("10.0.0.9/32")).isEqualTo(real));
    }

    @Test
    void anAddressParkedByAnotherWriterGetsNoSecondEntryFromHere() throws Exception {
        CalicoReservationStore store = store();
        store.reserve(request("kafka-0", "uid-0", "10.0.0.1/32")).get(5, TimeUnit.SECONDS);
        await().until(() -> metrics.metadataWrites.get() == 1);
        GenericKubernetesResource object = object(CalicoApi.V3, NAME);
        ((Map<String, Object>) object.getAdditionalProperties().get("spec"))
                .put("reservedCIDRs", List.of("10.0.0.1/32", "10.0.0.7/32"));
        cluster.client().genericKubernetesResources(new CalicoApi(CalicoApi.V3).context()).resource(object).update();
        await().untilAsserted(() -> assertThat(store.objects().snapshot(NAME).view().cidrs()).contains("10.0.0.7/32"));

        // e.g. the backstop seeing the pod go while the replica that parked it still writes its metadata
        ReserveResult result = store.reserve(request("kafka-7", "uid-7", "10.0.0.7/32")).get(5, TimeUnit.SECONDS);
        assertThat(result.unchanged()).as("parked already").isEqualTo(1);
        assertThat(store.find("10.0.0.7/32")).isEmpty();
        assertThat(metrics.metadataWrites.get()).isEqualTo(1);
        assertThat(reservedIp("10.0.0.7/32")).isNull();
    }

    @Test
    void releaseRemovesTheCidrsInOneWriteThenTheirMetadata() throws Exception {
        CalicoReservationStore store = store();
        store.reserve(request("kafka-0", "uid-0", "10.0.0.1/32")).get(5, TimeUnit.SECONDS);
        store.reserve(request("kafka-1", "uid-1", "10.0.0.2/32")).get(5, TimeUnit.SECONDS);
        store.reserve(request("kafka-2", "uid-2", "10.0.0.3/32")).get(5, TimeUnit.SECONDS);
        await().until(() -> store.held().size() == 3 && metrics.metadataWrites.get() == 3);
        int writes = metrics.writes.get();

        List<Reservation> release = store.held().stream().filter(r -> !r.cidr().equals("10.0.0.2/32")).toList();
        assertThat(store.apply(release, List.of()).get(5, TimeUnit.SECONDS)).isEqualTo(2);

        assertThat(metrics.writes.get()).isEqualTo(writes + 1);
        assertThat(cidrs(object(CalicoApi.V3, NAME))).containsExactly("10.0.0.2/32");
        await().untilAsserted(() -> assertThat(reservedIp("10.0.0.1/32")).isNull());
        assertThat(reservedIp("10.0.0.3/32")).isNull();
        assertThat(reservedIp("10.0.0.2/32")).isNotNull();
    }

    @Test
    void metadataWhoseCidrIsGoneIsDeletedAfterTheGrace() throws Exception {
        CalicoReservationStore store = store();
        store.reserve(request("kafka-0", "uid-0", "10.0.0.1/32")).get(5, TimeUnit.SECONDS);
        await().until(() -> reservedIp("10.0.0.1/32") != null);
        // the leader crashed after its release write, before deleting the ReservedIP
        GenericKubernetesResource object = object(CalicoApi.V3, NAME);
        ((Map<String, Object>) object.getAdditionalProperties().get("spec")).put("reservedCIDRs", List.of());
        cluster.client().genericKubernetesResources(new CalicoApi(CalicoApi.V3).context()).resource(object).update();
        await().untilAsserted(() -> assertThat(store.objects().snapshot(NAME).view().cidrs()).isEmpty());

        assertThat(store.repair(T0)).isZero();
        assertThat(store.repair(T0.plus(GRACE))).isEqualTo(1);
        await().untilAsserted(() -> assertThat(reservedIp("10.0.0.1/32")).isNull());
    }

    @Test
    void releaseOnlyRemovesTheEntryOfTheSamePod() throws Exception {
        CalicoReservationStore store = store();
        store.reserve(request("kafka-0", "uid-0", "10.0.0.1/32")).get(5, TimeUnit.SECONDS);
        Reservation stale = new Reservation("10.0.0.1/32", "kafka", "kafka-0", "uid-other", "node-1", "delete", T0,
                T0, null);
        assertThat(store.apply(List.of(stale), List.of()).get(5, TimeUnit.SECONDS)).isZero();
        assertThat(store.find("10.0.0.1/32")).isPresent();
        assertThat(cidrs(object(CalicoApi.V3, NAME))).containsExactly("10.0.0.1/32");
    }

    @Test
    void goneAtTouchesOnlyTheReservedIps() throws Exception {
        CalicoReservationStore store = store();
        store.reserve(request("kafka-0", "uid-0", "10.0.0.1/32", "fd00::1/128")).get(5, TimeUnit.SECONDS);
        await().until(() -> metrics.metadataWrites.get() == 2);
        int writes = metrics.writes.get();
        Instant gone = T0.plus(Duration.ofMinutes(1));
        List<Reservation> goneEntries = store.held().stream().map(r -> r.withGoneAt(gone)).toList();
        assertThat(store.apply(List.of(), goneEntries).get(5, TimeUnit.SECONDS)).as("nothing released").isZero();

        assertThat(store.held()).extracting(Reservation::goneAt).containsOnly(gone);
        // the ReservedIP writes are off the critical path: the cycle does not wait for them
        await().until(() -> metrics.metadataWrites.get() == 4);
        assertThat(stored("10.0.0.1/32").goneAt()).isEqualTo(gone);
        assertThat(stored("fd00::1/128").goneAt()).isEqualTo(gone);
        assertThat(metrics.writes.get()).as("no IPReservation write").isEqualTo(writes);
        Instant later = gone.plusSeconds(60);
        store.apply(List.of(), store.held().stream().map(r -> r.withGoneAt(later)).toList()).get(5, TimeUnit.SECONDS);
        assertThat(store.held()).as("goneAt is recorded once").extracting(Reservation::goneAt).containsOnly(gone);
        assertThat(metrics.metadataWrites.get()).as("no ReservedIP write either").isEqualTo(4);
    }

    @Test
    void entriesSpreadOverTheConfiguredNumberOfObjects() throws Exception {
        CalicoReservationStore store = store(cluster.client(), CalicoApi.V3, 3, 900);
        for (int i = 1; i <= 30; i++) {
            store.reserve(request("pod-" + i, "uid-" + i, "10.3.0." + i + "/32")).get(5, TimeUnit.SECONDS);
        }
        int total = 0;
        for (String name : store.objectNames()) {
            GenericKubernetesResource object = object(CalicoApi.V3, name);
            assertThat(object).as(name).isNotNull();
            total += cidrs(object).size();
        }
        assertThat(store.objectNames()).containsExactly(NAME, NAME + "-1", NAME + "-2");
        assertThat(total).isEqualTo(30);
        await().untilAsserted(() -> assertThat(store.held()).hasSize(30));
    }

    @Test
    void crdApiIsUsedWhenConfigured() throws Exception {
        CalicoReservationStore store = store(cluster.client(), CalicoApi.CRD_V1, 1, 900);
        store.reserve(request("kafka-0", "uid-0", "10.0.0.1/32")).get(5, TimeUnit.SECONDS);
        assertThat(cidrs(object(CalicoApi.CRD_V1, NAME))).containsExactly("10.0.0.1/32");
        assertThat(object(CalicoApi.V3, NAME)).isNull();
    }

    @Test
    void aFullObjectRefusesNewEntriesWithAClearMessageAndWritesNoMetadataForThem() throws Exception {
        CalicoReservationStore store = store(cluster.client(), CalicoApi.V3, 1, 2);
        store.reserve(request("a", "uid-a", "10.0.0.1/32")).get(5, TimeUnit.SECONDS);
        store.reserve(request("b", "uid-b", "10.0.0.2/32")).get(5, TimeUnit.SECONDS);
        assertThatThrownBy(() -> store.reserve(request("c", "uid-c", "10.0.0.3/32")).get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasMessageContaining("already holds 2 addresses");
        await().until(() -> metrics.metadataWrites.get() == 2);
        assertThat(store.held()).hasSize(2);
        assertThat(reservedIp("10.0.0.3/32")).isNull();
    }
}
