package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capo.calico.CalicoApi;
import io.capo.calico.CalicoReservationStore;
import io.capo.calico.CountingStoreMetrics;
import io.capo.calico.GoCapoAdoption;
import io.capo.calico.ReservationObject;
import io.capo.calico.ReservedIps;
import io.capo.reservation.ReservationRequest;
import io.capo.reservation.ReserveResult;
import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The lean IPReservation and its ReservedIP metadata on the real API server: repair after a crash between the two
 * writes, migration from Capo's annotation format and adoption of the Go Capo's object, and the size of a full
 * object as calico-apiserver stores it.
 */
class ReservedIpIT {

    private static final Duration WAIT = Duration.ofSeconds(40);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    ItEnvironment env;
    KubernetesClient client;

    ItEnvironment env(String tag) {
        env = new ItEnvironment(tag, dir);
        client = env.client();
        return env;
    }

    @AfterEach
    void close() {
        if (env != null) {
            env.close();
        }
    }

    CapoInstance capo(String ttl) throws Exception {
        CapoInstance capo = env.startCapo(b -> b.identity(env.objectName() + "-a").setting("ipReserveTime", ttl)
                .setting("ipReleasePeriod", "1s").property("capo.repairGrace", "2s"));
        env.awaitLeader(List.of(capo), WAIT);
        return capo;
    }

    String api = CalicoApi.V3;

    GenericKubernetesResource ipReservation() {
        return client.genericKubernetesResources(new CalicoApi(api).context()).withName(env.objectName()).get();
    }

    void setCidrs(List<String> cidrs) {
        GenericKubernetesResource object = ipReservation();
        spec(object).put("reservedCIDRs", cidrs);
        client.genericKubernetesResources(new CalicoApi(api).context()).resource(object).update();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> spec(GenericKubernetesResource object) {
        return (Map<String, Object>) object.getAdditionalProperties().get("spec");
    }

    GenericKubernetesResource reservedIp(String cidr) {
        return client.genericKubernetesResources(ReservedIps.context()).inNamespace(ItSupport.CAPO_NAMESPACE)
                .withName(ReservedIps.name(cidr)).get();
    }

    @Test
    void aCrashBetweenTheTwoWritesIsRepairedAndNeverReleasedEarly() throws Exception {
        env("repair");
        String ns = env.namespace("kafka", true);
        CapoInstance capo = capo("30s");
        env.registerWebhook(capo, ns);
        String ip = ItSupport.nextIpv4();
        ItSupport.statefulPod(client, ns, "kafka-0", "node-1", ip);
        client.pods().inNamespace(ns).withName("kafka-0").withGracePeriod(0).delete();
        String parked = ip + "/32";
        await().atMost(WAIT).until(() -> env.reservations().has(parked));

        // a replica crashed after its CIDR write: the address is parked, its metadata never written
        String bare = ItSupport.nextIpv4() + "/32";
        List<String> withBare = new ArrayList<>(env.reservations().cidrs());
        withBare.add(bare);
        Instant beforeRepair = Instant.now();
        setCidrs(withBare);
        // metadata lost for an address parked earlier (deleted by hand, or never written)
        client.genericKubernetesResources(ReservedIps.context()).inNamespace(ItSupport.CAPO_NAMESPACE)
                .withName(ReservedIps.name(parked)).delete();
        // metadata without its address: the leader crashed after its release write
        String orphan = ItSupport.nextIpv4() + "/32";
        client.genericKubernetesResources(ReservedIps.context()).inNamespace(ItSupport.CAPO_NAMESPACE)
                .resource(ReservedIps.toResource(new io.capo.reservation.Reservation(orphan, ns, "kafka-9", "u9", "n",
                        "delete", Instant.now(), Instant.now(), null), ItSupport.CAPO_NAMESPACE, env.objectName(),
                        env.objectName())).create();

        await().atMost(WAIT).until(() -> env.reservations().has(bare) && env.reservations().has(parked)
                && reservedIp(orphan) == null);
        ItSupport.StoredReservations stored = env.reservations();
        for (String cidr : List.of(bare, parked)) {
            JsonNode entry = stored.entry(cidr);
            assertThat(entry.path("reason").asText()).as(cidr).isEqualTo("repaired");
            assertThat(Instant.parse(entry.path("reservedAt").asText())).as(cidr).isAfter(beforeRepair);
        }
        Instant repairedAt = Instant.parse(stored.entry(bare).path("reservedAt").asText());
        // held a full time to live (30s) from the repair, then released
        await().atMost(WAIT).until(() -> Instant.now().isAfter(repairedAt.plusSeconds(25)));
        assertThat(env.reservations().cidrs()).contains(bare, parked);
        await().atMost(WAIT).until(() -> !env.reservations().cidrs().contains(bare));
        assertThat(Instant.now()).isAfter(repairedAt.plusSeconds(30));
        await().atMost(WAIT).until(() -> reservedIp(bare) == null);
    }

    @Test
    void capoFirstFormatIsMigratedToReservedIps() throws Exception {
        env("migrate");
        Instant reservedAt = Instant.now().minusSeconds(600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        String a = ItSupport.nextIpv4() + "/32";
        String b = ItSupport.nextIpv6() + "/128";
        String withoutMetadata = ItSupport.nextIpv4() + "/32";
        Map<String, Object> legacy = new LinkedHashMap<>();
        legacy.put(a, Map.of("namespace", "kafka", "pod", "kafka-0", "uid", "uid-a", "node", "node-1",
                "reason", "delete", "reservedAt", reservedAt.toString(), "goneAt", reservedAt.plusSeconds(5).toString()));
        legacy.put(b, Map.of("namespace", "redis", "pod", "redis-1", "uid", "uid-b", "node", "node-2",
                "reason", "eviction", "reservedAt", reservedAt.toString(), "ttl", "2h"));
        client.genericKubernetesResources(new CalicoApi(CalicoApi.V3).context()).resource(
                new GenericKubernetesResourceBuilder().withApiVersion(CalicoApi.V3).withKind("IPReservation")
                        .withNewMetadata().withName(env.objectName())
                        .addToAnnotations(ReservationObject.METADATA_ANNOTATION, JSON.writeValueAsString(legacy))
                        .endMetadata()
                        .addToAdditionalProperties("spec", Map.of("reservedCIDRs", List.of(a, b, withoutMetadata)))
                        .build()).create();

        capo("40m");
        await().atMost(WAIT).until(() -> ipReservation().getMetadata().getAnnotations()
                .get(ReservationObject.METADATA_ANNOTATION) == null);
        GenericKubernetesResource object = ipReservation();
        assertThat(object.getMetadata().getAnnotations()).containsEntry(ReservationObject.FORMAT_ANNOTATION,
                ReservationObject.FORMAT);
        assertThat(spec(object).get("reservedCIDRs")).isEqualTo(List.of(a, b, withoutMetadata));
        ItSupport.StoredReservations stored = env.reservations();
        assertThat(stored.entry(a).path("pod").asText()).isEqualTo("kafka-0");
        assertThat(stored.entry(a).path("reservedAt").asText()).isEqualTo(reservedAt.toString());
        assertThat(stored.entry(a).path("goneAt").asText()).isEqualTo(reservedAt.plusSeconds(5).toString());
        assertThat(stored.entry(b).path("ttl").asText()).isEqualTo("2h");
        assertThat(stored.entry(b).path("reason").asText()).isEqualTo("eviction");
        // an address the first format held without metadata is Capo's now: repaired, held a full time to live
        await().atMost(WAIT).until(() -> env.reservations().has(withoutMetadata));
        assertThat(env.reservations().reason(withoutMetadata)).isEqualTo("repaired");

        // a rolling upgrade: a replica of the earlier Capo still writes the first format after the migration
        String late = ItSupport.nextIpv4() + "/32";
        GenericKubernetesResource again = ipReservation();
        again.getMetadata().getAnnotations().remove(ReservationObject.FORMAT_ANNOTATION);
        again.getMetadata().getAnnotations().put(ReservationObject.METADATA_ANNOTATION, JSON.writeValueAsString(Map.of(
                late, Map.of("namespace", "kafka", "pod", "kafka-3", "uid", "uid-late", "node", "node-1",
                        "reason", "delete", "reservedAt", reservedAt.toString()))));
        spec(again).put("reservedCIDRs", List.of(a, b, withoutMetadata, late));
        client.genericKubernetesResources(new CalicoApi(CalicoApi.V3).context()).resource(again).update();
        await().atMost(WAIT).until(() -> env.reservations().has(late));
        assertThat(env.reservations().entry(late).path("pod").asText()).isEqualTo("kafka-3");
        await().atMost(WAIT).until(() -> ipReservation().getMetadata().getAnnotations()
                .get(ReservationObject.METADATA_ANNOTATION) == null);
    }

    @Test
    void theGoCapoObjectAndLedgerAreAdopted() throws Exception {
        // the Go Capo wrote bare IPs (ReleaseRouteTest adopts those), which this test bed's Calico CRDs (3.33
        // validation) refuse: here its object as it reads after a Calico upgrade, in CIDR notation
        api = CalicoApi.CRD_V1;
        env("adopt").calicoApiVersion(api);
        DateTimeFormatter layout = DateTimeFormatter.ofPattern("yyyy-MM-dd-HH:mm:ss");
        String recent = LocalDateTime.now(ZoneId.systemDefault()).minusMinutes(5).format(layout);
        String ip1 = ItSupport.nextIpv4();
        String ip2 = ItSupport.nextIpv4();
        client.genericKubernetesResources(new CalicoApi(api).context()).resource(
                new GenericKubernetesResourceBuilder().withApiVersion(api).withKind("IPReservation")
                        .withNewMetadata().withName(env.objectName()).endMetadata()
                        .addToAdditionalProperties("spec", Map.of("reservedCIDRs", List.of("1.1.1.1/32", ip1 + "/32", ip2 + "/32")))
                        .build()).create();
        client.configMaps().inNamespace(ItSupport.CAPO_NAMESPACE).resource(new ConfigMapBuilder().withNewMetadata()
                .withName(env.objectName()).endMetadata()
                .withData(Map.of(ip1, "kafka_kafka-0_node-1_" + recent)).build()).create();
        try {
            capo("40m");
            await().atMost(WAIT).until(() -> env.reservations().has(ip1 + "/32") && env.reservations().has(ip2 + "/32"));
            GenericKubernetesResource object = ipReservation();
            assertThat(spec(object).get("reservedCIDRs")).isEqualTo(List.of(ip1 + "/32", ip2 + "/32"));
            assertThat(object.getMetadata().getAnnotations()).containsKey(GoCapoAdoption.ADOPTED_ANNOTATION)
                    .containsEntry(ReservationObject.FORMAT_ANNOTATION, ReservationObject.FORMAT)
                    .doesNotContainKey(ReservationObject.METADATA_ANNOTATION);
            JsonNode adopted = env.reservations().entry(ip1 + "/32");
            assertThat(adopted.path("reason").asText()).isEqualTo("adopted");
            assertThat(adopted.path("pod").asText()).isEqualTo("kafka-0");
            assertThat(adopted.path("node").asText()).isEqualTo("node-1");
            assertThat(env.reservations().reason(ip2 + "/32")).as("no ledger entry").isEqualTo("adopted");
        } finally {
            client.configMaps().inNamespace(ItSupport.CAPO_NAMESPACE).withName(env.objectName()).delete();
        }
    }

    @Test
    void replicasAppendingAtOnceNeverConflictNorDuplicate() throws Exception {
        env("append");
        CountingStoreMetrics metrics = new CountingStoreMetrics();
        List<KubernetesClient> clients = List.of(env.k8s().newClient(), env.k8s().newClient(), env.k8s().newClient());
        List<CalicoReservationStore> stores = new ArrayList<>();
        try {
            for (KubernetesClient c : clients) {
                CalicoReservationStore store = new CalicoReservationStore(c, new CalicoApi(CalicoApi.V3),
                        ItSupport.CAPO_NAMESPACE, env.objectName(), 1, 10_000, Duration.ofMinutes(1), metrics);
                store.start();
                stores.add(store);
            }
            await().atMost(WAIT).until(() -> stores.stream().allMatch(CalicoReservationStore::synced));
            // the object exists (a first write), as in a running cluster
            stores.get(0).reserve(new ReservationRequest("kafka", "first", "u-first", "n",
                    List.of(ItSupport.nextIpv4() + "/32"), "delete", Instant.now(), null, null)).get(30, TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> stores.stream().allMatch(st -> st.heldCount() == 1));
            List<CompletableFuture<ReserveResult>> writes = new ArrayList<>();
            for (int i = 0; i < 240; i++) {
                String cidr = ItSupport.nextIpv4() + "/32";
                writes.add(stores.get(i % 3).reserve(new ReservationRequest("kafka", "pod-" + i, "uid-" + i, "n",
                        List.of(cidr), "delete", Instant.now(), null, null)));
            }
            for (CompletableFuture<ReserveResult> w : writes) {
                w.get(60, TimeUnit.SECONDS);
            }
            System.out.printf("3 stores, 240 reservations at once: %d IPReservation writes, %d conflicts%n",
                    metrics.writes.get() - 1, metrics.conflicts.get());
            assertThat(metrics.conflicts.get()).as("appends do not conflict").isZero();

            // the same pod reaching two replicas at once (its DELETE and its eviction): parked once
            writes.clear();
            for (int i = 0; i < 30; i++) {
                String cidr = ItSupport.nextIpv4() + "/32";
                for (int r = 0; r < 2; r++) {
                    writes.add(stores.get((i + r) % 3).reserve(new ReservationRequest("kafka", "twice-" + i,
                            "twice-uid-" + i, "n", List.of(cidr), "delete", Instant.now(), null, null)));
                }
            }
            for (CompletableFuture<ReserveResult> w : writes) {
                w.get(60, TimeUnit.SECONDS);
            }
            assertThat(env.reservations().cidrs()).hasSize(1 + 240 + 30).doesNotHaveDuplicates();
        } finally {
            stores.forEach(CalicoReservationStore::close);
            clients.forEach(KubernetesClient::close);
        }
    }

    /**
     * calico-apiserver stores a v3 object as crd.projectcalico.org/v1 with its v3 metadata marshalled into the
     * annotation projectcalico.org/metadata: with CIDRs only, a full object of 900 addresses stays small.
     */
    @Test
    void nineHundredAddressesStoredTheWayCalicoApiserverStoresThemStaySmall() throws Exception {
        env("size");
        CountingStoreMetrics metrics = new CountingStoreMetrics();
        KubernetesClient own = env.k8s().newClient();
        try (CalicoReservationStore store = new CalicoReservationStore(own, new CalicoApi(CalicoApi.V3),
                ItSupport.CAPO_NAMESPACE, env.objectName(), 1, 10_000, Duration.ofMinutes(1), metrics)) {
            store.start();
            await().atMost(WAIT).until(store::synced);
            List<CompletableFuture<ReserveResult>> writes = new ArrayList<>();
            for (int i = 0; i < 900; i++) {
                writes.add(store.reserve(new ReservationRequest("n".repeat(63), "p".repeat(240) + i,
                        "0f6f8a3e-1c9b-4a57-9d3c-" + String.format("%012d", i), "k".repeat(253),
                        List.of(ItSupport.nextIpv4() + "/32"), "eviction", Instant.now(), null, Duration.ofHours(1))));
            }
            for (CompletableFuture<ReserveResult> w : writes) {
                w.get(60, TimeUnit.SECONDS);
            }
            assertThat(metrics.writes.get()).as("group commit").isLessThan(100);
        } finally {
            own.close();
        }
        GenericKubernetesResource v3 = ipReservation();
        assertThat((List<?>) spec(v3).get("reservedCIDRs")).hasSize(900);

        // as calico-apiserver writes it: v1 kind, the v3 metadata as escaped JSON in one annotation
        Map<String, Object> v3Metadata = new LinkedHashMap<>();
        v3Metadata.put("name", v3.getMetadata().getName());
        v3Metadata.put("uid", v3.getMetadata().getUid());
        v3Metadata.put("creationTimestamp", v3.getMetadata().getCreationTimestamp());
        v3Metadata.put("labels", v3.getMetadata().getLabels());
        v3Metadata.put("annotations", v3.getMetadata().getAnnotations());
        String name = env.objectName() + "-as-stored";
        GenericKubernetesResource v1 = new GenericKubernetesResourceBuilder().withApiVersion(CalicoApi.CRD_V1)
                .withKind("IPReservation").withNewMetadata().withName(name)
                .addToAnnotations("projectcalico.org/metadata", JSON.writeValueAsString(v3Metadata)).endMetadata()
                .addToAdditionalProperties("spec", spec(v3)).build();
        var v1Api = client.genericKubernetesResources(new CalicoApi(CalicoApi.CRD_V1).context());
        try {
            GenericKubernetesResource created = v1Api.resource(v1).create();
            int whole = client.getKubernetesSerialization().asJson(created).getBytes(StandardCharsets.UTF_8).length;
            created.getMetadata().setManagedFields(null);
            int bytes = client.getKubernetesSerialization().asJson(created).getBytes(StandardCharsets.UTF_8).length;
            System.out.printf("900 addresses stored as calico-apiserver does: %d bytes (%.1f per address), "
                    + "%d bytes with managedFields (%.1f per address)%n", bytes, bytes / 900.0, whole, whole / 900.0);
            int annotationBytes = created.getMetadata().getAnnotations().entrySet().stream()
                    .mapToInt(e -> e.getKey().length() + e.getValue().length()).sum();
            // about 20 bytes per CIDR: names of any length no longer count. The API server's managedFields list
            // every value of the set again (they come with every read unless a client strips them)
            assertThat(bytes / 900.0).as("bytes per reserved address, object without managedFields").isLessThan(30);
            assertThat(whole / 900.0).as("bytes per reserved address, as served").isLessThan(64);
            assertThat(annotationBytes).as("annotations").isLessThan(1024);
        } finally {
            v1Api.withName(name).delete();
        }
    }
}
