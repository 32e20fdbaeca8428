package io.capo.routes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capo.calico.CalicoReservationStore;
import io.capo.testing.CapoInstance;
import io.capo.testing.MockCluster;
import io.capo.testing.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.apache.logging.log4j.Level;
import io.capo.testing.LogCapture;

import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
        String uid = cluster.ensure(MockCluster.statefulPod(namespace, name, "node-1", ip)).getMetadata().getUid();
        // in both replicas' caches, so that confirming needs no GET (the allow replica's budget is 1 ns)
        for (CapoInstance capo : new CapoInstance[]{deny, allow}) {
            org.awaitility.Awaitility.await().until(() -> !"kafka".equals(namespace)
                    || capo.bean("clusterCache", io.capo.informers.ClusterCache.class).pod(namespace, name).isPresent());
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

    /** The delete fixture with one field replaced (or removed, for "-"), as a client or a broken proxy might send. */
    static String malformed(String pointer, String json) throws Exception {
        ObjectNode review = review("kafka", "10.50.1.1");
        int slash = pointer.lastIndexOf('/');
        ObjectNode parent = (ObjectNode) review.at(pointer.substring(0, slash));
        if ("-".equals(json)) {
            parent.remove(pointer.substring(slash + 1));
        } else {
            parent.set(pointer.substring(slash + 1), JSON.readTree(json));
        }
        return review.toString();
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /request/oldObject/status/podIPs                | "10.50.1.1"           | request.oldObject.status.podIPs: expected an array
            /request/oldObject/metadata/deletionTimestamp   | "yesterday"           | request.oldObject.metadata.deletionTimestamp: 'yesterday' is not an RFC 3339 time such as 2026-01-02T15:04:05Z
            /request/oldObject/status/containerStatuses     | "running"             | request.oldObject.status.containerStatuses: expected an array
            /request/oldObject/status/containerStatuses     | [{"state":{"terminated":{"finishedAt":"later"}}}] | request.oldObject.status.containerStatuses[0].state.terminated.finishedAt: 'later' is not an RFC 3339 time such as 2026-01-02T15:04:05Z
            /request/oldObject/metadata/labels              | ["app=kafka"]         | request.oldObject.metadata.labels: expected an object
            /request/oldObject/spec/containers              | "kafka"               | request.oldObject.spec.containers: expected an array
            /request/resource                               | -                     | request.resource is missing
            /request/kind                                   | -                     | request.kind is missing
            /request/operation                              | -                     | request.operation is missing
            /apiVersion                                     | "admission.k8s.io/v9" | apiVersion 'admission.k8s.io/v9' is not admission.k8s.io/v1 or admission.k8s.io/v1beta1
            """)
    void malformedReviewsGet400NamingTheField(String pointer, String json, String message) throws Exception {
        try (LogCapture log = new LogCapture()) {
            HttpResponse<String> response = deny.postWebhook(malformed(pointer, json), certificates.ca());
            assertThat(response.statusCode()).isEqualTo(400);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
            assertThat(response.body()).isEqualTo("bad AdmissionReview: " + message);
            assertThat(log.atLeast(Level.ERROR)).isEmpty();
        }
        assertThat(parked(deny, "10.50.1.1/32")).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"APPLICATION/JSON", "application/json; charset=utf-8", "Application/JSON;Charset=UTF-8"})
    void jsonIsAcceptedInAnySpelling(String contentType) throws Exception {
        ObjectNode review = review("kafka", "10.50.2." + (Math.abs(contentType.hashCode()) % 200 + 1));
        HttpResponse<String> response = deny.postWebhook(review.toString(), certificates.ca(), contentType);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).at("/response/allowed").asBoolean()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            text/plain                        | Content-Type 'text/plain' is not supported: send application/json
            application/json; charset=latin1  | charset 'latin1' is not supported: JSON is sent as UTF-8
            """)
    void otherMediaTypesGet415WithAMessage(String contentType, String message) throws Exception {
        HttpResponse<String> response = deny.postWebhook(review("kafka", "10.50.1.2").toString(), certificates.ca(),
                contentType);
        assertThat(response.statusCode()).isEqualTo(415);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
        assertThat(response.body()).isEqualTo(message);
        assertThat(parked(deny, "10.50.1.2/32")).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"GET", "PUT", "DELETE"})
    void otherMethodsGet405WithAMessage(String method) throws Exception {
        HttpResponse<String> response = CapoInstance.httpsClient(certificates.ca()).send(HttpRequest
                .newBuilder(deny.webhookUri()).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(review("kafka", "10.50.1.3").toString()))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(405);
        assertThat(response.headers().firstValue("Allow")).hasValue("POST");
        assertThat(response.body()).isEqualTo("method " + method + " is not allowed: POST an AdmissionReview");
    }

    @Test
    void anOversizedBodyGets413WithAMessageAndNoError() throws Exception {
        String huge = "{\"pad\":\"" + "x".repeat(5 * 1024 * 1024) + "\"}";
        try (LogCapture log = new LogCapture()) {
            HttpResponse<String> response = deny.postWebhook(huge, certificates.ca());
            assertThat(response.statusCode()).isEqualTo(413);
            assertThat(response.body()).isEqualTo("request body exceeds 4194304 bytes: an AdmissionReview is smaller");
            assertThat(log.atLeast(Level.ERROR)).isEmpty();
        }
    }

    @Test
    void badInputDisturbsNoOtherRequest() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> bad = new ArrayList<>();
        HttpClient client = CapoInstance.httpsClient(certificates.ca());
        for (int i = 0; i < 20; i++) {
            String body = i % 2 == 0 ? malformed("/request/oldObject/status/podIPs", "\"x\"") : "{not json";
            bad.add(client.sendAsync(HttpRequest.newBuilder(deny.webhookUri()).header("Content-Type",
                    "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        JsonNode good = send(deny, review("kafka", "10.50.1.4"));
        assertThat(good.get("allowed").asBoolean()).isTrue();
        assertThat(parked(deny, "10.50.1.4/32")).isTrue();
        for (CompletableFuture<HttpResponse<String>> response : bad) {
            assertThat(response.get().statusCode()).isEqualTo(400);
        }
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
