package io.capo.routes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capo.kubernetes.CalicoReservationStore;
import io.capo.testing.CapoInstance;
import io.capo.testing.MockCluster;
import io.capo.testing.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Each webhook case through the HTTPS route, including both failure modes. */
class WebhookCasesRouteTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static MockCluster cluster;
    static TestCertificates certificates;
    static CapoInstance deny;
    static CapoInstance allow;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        cluster = new MockCluster();
        cluster.namespace("kafka", true);
        cluster.namespace("web", false);
        certificates = new TestCertificates("cases-ca");
        Path certs = certificates.writeServing(dir.resolve("certs"), "capo");
        deny = CapoInstance.builder(cluster.newClient(), certs).identity("cases-deny").start();
        // a budget no write can meet: every reservation "fails" in time, as when the API server is down
        allow = CapoInstance.builder(cluster.newClient(), certs).identity("cases-allow")
                .setting("webhookBudget", "1ns").setting("failureMode", "allow")
                .setting("reservationObjectName", "cases-allow").start();
    }

    @AfterAll
    static void stop() throws Exception {
        deny.close();
        allow.close();
        cluster.close();
    }

    /** A review of the deletion of a pod that exists (the webhook writes only what the cluster confirms). */
    static ObjectNode review(String namespace, String ip) throws Exception {
        String name = "pod-" + ip.replace('.', '-');
        String uid = cluster.create(MockCluster.statefulPod(namespace, name, "node-1", ip)).getMetadata().getUid();
        // in both replicas' caches, so that confirming needs no GET (the allow replica's budget is 1 ns)
        for (CapoInstance capo : new CapoInstance[]{deny, allow}) {
            org.awaitility.Awaitility.await().until(() -> !"kafka".equals(namespace)
                    || capo.bean("clusterCache", io.capo.kubernetes.ClusterCache.class).pod(namespace, name).isPresent());
        }
        try (InputStream in = WebhookCasesRouteTest.class.getResourceAsStream("/admission/delete-pod.json")) {
            ObjectNode review = (ObjectNode) JSON.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            ObjectNode request = (ObjectNode) review.get("request");
            request.put("uid", UUID.randomUUID().toString());
            request.put("namespace", namespace);
            request.put("name", name);
            ((ObjectNode) request.at("/oldObject/metadata")).put("namespace", namespace).put("name", name)
                    .put("uid", uid);
            ObjectNode status = (ObjectNode) request.at("/oldObject/status");
            status.put("podIP", ip);
            status.putArray("podIPs").addObject().put("ip", ip);
            return review;
        }
    }

    static JsonNode send(CapoInstance capo, ObjectNode review) throws Exception {
        HttpResponse<String> response = capo.postWebhook(review.toString(), certificates.ca());
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode answer = JSON.readTree(response.body());
        assertThat(answer.at("/response/uid").asText()).isEqualTo(review.at("/request/uid").asText());
        return answer.get("response");
    }

    static boolean parked(CapoInstance capo, String cidr) {
        return capo.bean("reservationStore", CalicoReservationStore.class).find(cidr).isPresent();
    }

    @Test
    void dryRunIsAllowedAndWritesNothing() throws Exception {
        ObjectNode review = review("kafka", "10.50.0.1");
        ((ObjectNode) review.get("request")).put("dryRun", true);
        assertThat(send(deny, review).get("allowed").asBoolean()).isTrue();
        assertThat(parked(deny, "10.50.0.1/32")).isFalse();
    }

    @Test
    void namespaceWithoutTheLabelIsAllowedAndWritesNothing() throws Exception {
        assertThat(send(deny, review("web", "10.50.0.2")).get("allowed").asBoolean()).isTrue();
        assertThat(parked(deny, "10.50.0.2/32")).isFalse();
    }

    @Test
    void otherOperationsAreAllowedUntouched() throws Exception {
        ObjectNode review = review("kafka", "10.50.0.3");
        ((ObjectNode) review.get("request")).put("operation", "UPDATE");
        JsonNode response = send(deny, review);
        assertThat(response.get("allowed").asBoolean()).isTrue();
        assertThat(response.has("status")).isFalse();
        assertThat(parked(deny, "10.50.0.3/32")).isFalse();
    }

    @Test
    void selectedPodIsParkedOnce() throws Exception {
        ObjectNode review = review("kafka", "10.50.0.4");
        assertThat(send(deny, review).get("allowed").asBoolean()).isTrue();
        assertThat(send(deny, review).get("allowed").asBoolean()).isTrue();
        assertThat(parked(deny, "10.50.0.4/32")).isTrue();
        assertThat(deny.get("/observe/metrics").body())
                .contains("capo_webhook_requests_total{operation=\"delete\",result=\"already-reserved\"} 1.0");
    }

    @Test
    void failureModeAllowLetsThePodGoWithAWarningAndParksItLater() throws Exception {
        JsonNode response = send(allow, review("kafka", "10.50.0.5"));
        assertThat(response.get("allowed").asBoolean()).isTrue();
        assertThat(response.at("/warnings/0").asText()).contains("could not park IP 10.50.0.5/32");
        // the write was queued, not dropped
        org.awaitility.Awaitility.await().until(() -> parked(allow, "10.50.0.5/32"));
    }

    @Test
    void failureModeDenyRefusesWithTooManyRequests() throws Exception {
        CapoInstance denyFast = CapoInstance.builder(cluster.newClient(), certificates.writeServing(
                        Path.of("target/test-certs/cases-deny-fast"), "capo")).identity("cases-deny-fast")
                .setting("webhookBudget", "1ns").setting("reservationObjectName", "cases-deny").start();
        try {
            JsonNode response = send(denyFast, review("kafka", "10.50.0.6"));
            assertThat(response.get("allowed").asBoolean()).isFalse();
            assertThat(response.at("/status/code").asInt()).isEqualTo(429);
            assertThat(response.at("/status/message").asText()).contains("10.50.0.6/32").contains("retry");
        } finally {
            denyFast.close();
        }
    }
}
