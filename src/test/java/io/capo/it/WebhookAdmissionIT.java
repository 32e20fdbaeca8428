package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.capo.calico.CalicoApi;
import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static io.capo.it.ItSupport.metric;
import static io.capo.it.ItSupport.nextIpv4;
import static io.capo.it.ItSupport.nextIpv6;
import static io.capo.it.ItSupport.podExists;
import static io.capo.it.ItSupport.statefulPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The API server itself calls Capo's webhook over TLS (ValidatingWebhookConfiguration with a url and the test CA):
 * graceful and forced deletes, the Eviction API (allowed and refused by a PodDisruptionBudget), dry runs, pods and
 * namespaces Capo must leave alone, dual-stack pods, and the IPReservation CRD's own validation.
 */
class WebhookAdmissionIT {

    private static final Duration WAIT = Duration.ofSeconds(20);

    static ItEnvironment env;
    static KubernetesClient client;
    static CapoInstance capo;
    static String ns;
    static String node;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        env = new ItEnvironment("admission", dir);
        client = env.client();
        ns = env.namespace("stateful", true);
        node = env.node("node");
        capo = env.startCapo(b -> b.setting("staleGrace", "3s").setting("ipReserveTime", "1h"));
        env.registerWebhook(capo, ns);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    static double reviews(String operation, String result) {
        return metric(capo, "capo_webhook_requests_total", "operation=\"" + operation + "\"",
                "result=\"" + result + "\"");
    }

    @Test
    void gracefulDeleteIsAdmittedTwiceAndReservedOnce() {
        String ip = nextIpv4();
        String cidr = ip + "/32";
        Pod pod = statefulPod(client, ns, "graceful-0", node, ip);
        double reserved = reviews("delete", "reserved");
        double repeated = reviews("delete", "already-reserved");

        client.pods().inNamespace(ns).withName("graceful-0").delete();
        await().atMost(WAIT).until(() -> env.reservations().has(cidr));
        JsonNode first = env.reservations().entry(cidr);
        assertThat(first.path("reason").asText()).isEqualTo("delete");
        assertThat(first.path("namespace").asText()).isEqualTo(ns);
        assertThat(first.path("pod").asText()).isEqualTo("graceful-0");
        assertThat(first.path("uid").asText()).isEqualTo(pod.getMetadata().getUid());
        assertThat(first.path("node").asText()).isEqualTo(node);
        assertThat(first.has("goneAt")).as("the pod is only terminating").isFalse();
        Pod terminating = client.pods().inNamespace(ns).withName("graceful-0").get();
        assertThat(terminating.getMetadata().getDeletionTimestamp()).isNotNull();

        // the kubelet's final delete: a second DELETE admission for the same pod
        client.pods().inNamespace(ns).withName("graceful-0").withGracePeriod(0).delete();
        await().atMost(WAIT).until(() -> !podExists(client, ns, "graceful-0") && env.reservations().gone(cidr));
        // the API server may call the webhook more than once per DELETE (graceful update, then the removal)
        assertThat(reviews("delete", "reserved")).isEqualTo(reserved + 1);
        assertThat(reviews("delete", "already-reserved")).isGreaterThanOrEqualTo(repeated + 1);

        ItSupport.StoredReservations stored = env.reservations();
        assertThat(stored.cidrs().stream().filter(cidr::equals)).hasSize(1);
        assertThat(stored.entries().values().stream()
                .filter(e -> e.path("uid").asText().equals(pod.getMetadata().getUid()))).hasSize(1);
        JsonNode last = stored.entry(cidr);
        assertThat(last.path("reservedAt").asText()).isEqualTo(first.path("reservedAt").asText());
        assertThat(last.path("reason").asText()).isEqualTo("delete");
        assertThat(Instant.parse(last.path("goneAt").asText()))
                .isAfterOrEqualTo(Instant.parse(last.path("reservedAt").asText()));
    }

    @Test
    void forceDeleteIsReserved() {
        String ip = nextIpv4();
        Pod pod = statefulPod(client, ns, "forced-0", node, ip);

        client.pods().inNamespace(ns).withName("forced-0").withGracePeriod(0).delete();

        await().atMost(WAIT).until(() -> env.reservations().gone(ip + "/32"));
        JsonNode entry = env.reservations().entry(ip + "/32");
        assertThat(entry.path("reason").asText()).isEqualTo("delete");
        assertThat(entry.path("uid").asText()).isEqualTo(pod.getMetadata().getUid());
        assertThat(podExists(client, ns, "forced-0")).isFalse();
    }

    @Test
    void allowedEvictionIsReserved() {
        String ip = nextIpv4();
        Pod pod = statefulPod(client, ns, "evicted-0", node, ip);

        assertThat(client.pods().inNamespace(ns).withName("evicted-0").evict()).isTrue();

        await().atMost(WAIT).until(() -> env.reservations().has(ip + "/32"));
        JsonNode entry = env.reservations().entry(ip + "/32");
        assertThat(entry.path("reason").asText()).isEqualTo("eviction");
        assertThat(entry.path("uid").asText()).isEqualTo(pod.getMetadata().getUid());
        // eviction deletes gracefully; the kubelet's final delete ends it
        assertThat(client.pods().inNamespace(ns).withName("evicted-0").get().getMetadata().getDeletionTimestamp())
                .isNotNull();
        client.pods().inNamespace(ns).withName("evicted-0").withGracePeriod(0).delete();
        await().atMost(WAIT).until(() -> env.reservations().gone(ip + "/32"));
        assertThat(env.reservations().reason(ip + "/32")).isEqualTo("eviction");
    }

    @Test
    void evictionRefusedByADisruptionBudgetIsDroppedAsStaleWhileThePodLives() {
        String ip = nextIpv4();
        String cidr = ip + "/32";
        ItSupport.runningPod(client, ns, "guarded-0", node,
                Map.of(ItSupport.STATEFUL_LABEL, "guarded-0", "app", "guarded"), ip);
        // no disruption controller here: the budget never gets a status, so every eviction is refused with 429
        client.policy().v1().podDisruptionBudget().inNamespace(ns).resource(new PodDisruptionBudgetBuilder()
                .withNewMetadata().withName("guarded").endMetadata()
                .withNewSpec().withNewMinAvailable(1).withNewSelector().addToMatchLabels("app", "guarded")
                .endSelector().endSpec().build()).create();
        double stale = metric(capo, "capo_releases_total", "reason=\"stale\"");

        try (KubernetesClient once = env.k8s().newClientWithoutRetries()) {
            assertThat(once.pods().inNamespace(ns).withName("guarded-0").evict()).as("refused with 429").isFalse();
        }

        await().atMost(WAIT).until(() -> env.reservations().has(cidr));
        assertThat(env.reservations().reason(cidr)).isEqualTo("eviction");
        // staleGrace 3s, released by the leader's next cycle while the pod is still running
        await().atMost(WAIT).until(() -> !env.reservations().has(cidr));
        assertThat(podExists(client, ns, "guarded-0")).isTrue();
        assertThat(client.pods().inNamespace(ns).withName("guarded-0").get().getMetadata().getDeletionTimestamp())
                .isNull();
        assertThat(metric(capo, "capo_releases_total", "reason=\"stale\"")).isGreaterThan(stale);
    }

    @Test
    void dryRunDeleteWritesNothing() {
        String ip = nextIpv4();
        statefulPod(client, ns, "dry-0", node, ip);
        double dryRuns = reviews("delete", "dry-run");

        client.pods().inNamespace(ns).withName("dry-0").dryRun().delete();

        await().atMost(WAIT).until(() -> reviews("delete", "dry-run") > dryRuns);
        assertThat(podExists(client, ns, "dry-0")).isTrue();
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4))
                .until(() -> !env.reservations().has(ip + "/32"));
    }

    @Test
    void podNotSelectedIsLeftAlone() {
        String ip = nextIpv4();
        ItSupport.runningPod(client, ns, "stateless-0", node, Map.of("app", "web"), ip);
        double skipped = reviews("delete", "skipped");

        client.pods().inNamespace(ns).withName("stateless-0").withGracePeriod(0).delete();

        await().atMost(WAIT).until(() -> reviews("delete", "skipped") > skipped);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4))
                .until(() -> !env.reservations().has(ip + "/32"));
    }

    @Test
    void namespaceWithoutTheLabelIsLeftAlone() {
        String plain = env.namespace("plain", false);
        String ip = nextIpv4();
        statefulPod(client, plain, "db-0", node, ip);
        double reviews = metric(capo, "capo_webhook_requests_total");

        client.pods().inNamespace(plain).withName("db-0").withGracePeriod(0).delete();

        await().atMost(WAIT).until(() -> !podExists(client, plain, "db-0"));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4))
                .until(() -> !env.reservations().has(ip + "/32"));
        assertThat(metric(capo, "capo_webhook_requests_total")).as("not even asked").isEqualTo(reviews);
    }

    @Test
    void namespaceBeingDeletedIsLeftAlone() {
        String doomed = env.namespace("doomed", true);
        String ip = nextIpv4();
        statefulPod(client, doomed, "db-0", node, ip);
        client.namespaces().withName(doomed).delete();
        // no namespace controller here: the namespace stays Terminating with its pods
        await().atMost(WAIT).until(() -> client.namespaces().withName(doomed).get().getMetadata()
                .getDeletionTimestamp() != null);
        // dry runs until Capo's namespace cache has seen the deletion
        await().atMost(WAIT).until(() -> {
            double before = reviews("delete", "namespace-terminating");
            client.pods().inNamespace(doomed).withName("db-0").dryRun().delete();
            return reviews("delete", "namespace-terminating") > before;
        });
        double terminating = reviews("delete", "namespace-terminating");

        client.pods().inNamespace(doomed).withName("db-0").withGracePeriod(0).delete();

        await().atMost(WAIT).until(() -> !podExists(client, doomed, "db-0"));
        assertThat(reviews("delete", "namespace-terminating")).isGreaterThan(terminating);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4))
                .until(() -> !env.reservations().has(ip + "/32"));
    }

    @Test
    void dualStackPodGetsBothHostRoutes() {
        String v4 = nextIpv4();
        String v6 = nextIpv6();
        Pod pod = statefulPod(client, ns, "dual-0", node, v4, v6);

        client.pods().inNamespace(ns).withName("dual-0").withGracePeriod(0).delete();

        await().atMost(WAIT).until(() -> env.reservations().gone(v4 + "/32") && env.reservations().gone(v6 + "/128"));
        ItSupport.StoredReservations stored = env.reservations();
        assertThat(stored.cidrs()).contains(v4 + "/32", v6 + "/128").doesNotContain(v4, v6);
        for (String cidr : List.of(v4 + "/32", v6 + "/128")) {
            assertThat(stored.entry(cidr).path("uid").asText()).isEqualTo(pod.getMetadata().getUid());
            assertThat(stored.reason(cidr)).isEqualTo("delete");
        }
    }

    @Test
    void theCrdRefusesWhatCalicoRefusesAndAcceptsWhatCapoWrote() {
        String ip = nextIpv4();
        statefulPod(client, ns, "crd-0", node, ip);
        client.pods().inNamespace(ns).withName("crd-0").withGracePeriod(0).delete();
        await().atMost(WAIT).until(() -> env.reservations().gone(ip + "/32"));

        var resources = client.genericKubernetesResources(new CalicoApi(CalicoApi.V3).context());
        String name = ItSupport.unique("capo-it-crd-check");
        // what Capo wrote passes validation (CEL isCIDR, list-type set): a dry-run copy of its object
        GenericKubernetesResource own = resources.withName(env.objectName()).get();
        assertThat(ItSupport.read(client, env.objectName()).cidrs()).contains(ip + "/32");
        own.getMetadata().setName(name);
        own.getMetadata().setResourceVersion(null);
        own.getMetadata().setUid(null);
        own.getMetadata().setManagedFields(null);
        own.getMetadata().setCreationTimestamp(null);
        assertThat(resources.resource(own).dryRun().create()).isNotNull();

        Map<List<String>, String> refused = Map.of(
                List.of(ip), "reservedCIDRs entries must be in CIDR notation",
                List.of(ip + "/32", ip + "/32"), "Duplicate value");
        refused.forEach((bad, message) -> {
            GenericKubernetesResource invalid = new GenericKubernetesResourceBuilder()
                    .withApiVersion(CalicoApi.V3).withKind("IPReservation").withNewMetadata().withName(name)
                    .endMetadata().addToAdditionalProperties("spec", Map.of("reservedCIDRs", bad)).build();
            assertThatThrownBy(() -> resources.resource(invalid).create())
                    .isInstanceOfSatisfying(KubernetesClientException.class,
                            e -> assertThat(e.getCode()).isEqualTo(422))
                    .hasMessageContaining(message);
        });
    }

    /** An AdmissionReview as a forger would post it straight to Capo's port, for a pod as described. */
    static String forgedDelete(String namespace, String name, String uid, String ip) {
        return """
                {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
                  "uid": "%s", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                  "resource": {"group": "", "version": "v1", "resource": "pods"}, "operation": "DELETE",
                  "namespace": "%s", "name": "%s", "userInfo": {"username": "system:admin"}, "dryRun": false,
                  "oldObject": {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "%s", "namespace": "%s", "uid": "%s",
                                 "labels": {"statefulset.kubernetes.io/pod-name": "%s"}},
                    "spec": {"nodeName": "node-1", "containers": [{"name": "main", "image": "busybox"}]},
                    "status": {"phase": "Running", "podIP": "%s", "podIPs": [{"ip": "%s"}]}}}}
                """.formatted(java.util.UUID.randomUUID(), namespace, name, name, namespace, uid, name, ip, ip);
    }

    @Test
    void forgedReviewsForUnknownPodsOrWithAnotherUidOrIpWriteNothing() throws Exception {
        String realIp = nextIpv4();
        Pod real = statefulPod(client, ns, "real-0", node, realIp);
        double unconfirmed = metric(capo, "capo_webhook_unconfirmed_total");
        String madeUpIp = nextIpv4();
        String otherIp = nextIpv4();
        List<String> forged = List.of(
                forgedDelete(ns, "made-up-0", java.util.UUID.randomUUID().toString(), madeUpIp),
                forgedDelete(ns, "real-0", java.util.UUID.randomUUID().toString(), realIp),
                forgedDelete(ns, "real-0", real.getMetadata().getUid(), otherIp));

        for (String review : forged) {
            var answer = capo.postWebhook(review, env.certificates().ca());
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.body()).contains("\"allowed\":true");
        }

        assertThat(metric(capo, "capo_webhook_unconfirmed_total")).isEqualTo(unconfirmed + 3);
        assertThat(metric(capo, "capo_webhook_unconfirmed_total", "reason=\"not-found\"")).isGreaterThanOrEqualTo(1);
        ItSupport.StoredReservations stored = env.reservations();
        assertThat(stored.has(madeUpIp + "/32")).isFalse();
        assertThat(stored.has(otherIp + "/32")).isFalse();
        assertThat(stored.has(realIp + "/32")).isFalse();
        assertThat(stored.entries().values()).noneMatch(e -> e.path("pod").asText().equals("made-up-0"));

        // the real deletion, posted by the API server, is confirmed and parked
        client.pods().inNamespace(ns).withName("real-0").withGracePeriod(0).delete();
        await().atMost(WAIT).until(() -> env.reservations().has(realIp + "/32"));
        assertThat(env.reservations().entry(realIp + "/32").path("uid").asText()).isEqualTo(real.getMetadata().getUid());
    }
}
