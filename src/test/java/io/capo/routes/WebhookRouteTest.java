package io.capo.routes;

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

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The admission webhook route over HTTPS, with the bundled routes, against the mock API server. */
class WebhookRouteTest {

    static MockCluster cluster;
    static TestCertificates certificates;
    static CapoInstance capo;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        cluster = new MockCluster();
        cluster.namespace("kafka", true);
        certificates = new TestCertificates("capo-test-ca");
        capo = CapoInstance.builder(cluster.client(), certificates.writeServing(dir.resolve("certs"), "capo")).start();
    }

    @AfterAll
    static void stop() throws Exception {
        capo.close();
        cluster.close();
    }

    static String fixture(String name) throws Exception {
        try (InputStream in = WebhookRouteTest.class.getResourceAsStream("/admission/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void deleteReviewIsAnsweredOverHttpsAndTheIpIsParked() throws Exception {
        await().until(() -> capo.bean("reservationStore", CalicoReservationStore.class).synced());
        HttpResponse<String> response = capo.postWebhook(fixture("delete-pod.json"), certificates.ca());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).contains("json"));
        assertThat(response.body()).contains("\"uid\":\"705ab4f5-6393-11e8-b7cc-42010a800002\"")
                .contains("\"allowed\":true");
        assertThat(capo.bean("reservationStore", CalicoReservationStore.class).find("10.244.1.17/32")).isPresent();
    }

    @Test
    void badInputGetsA400WithAClearMessage() throws Exception {
        HttpResponse<String> response = capo.postWebhook("{not json", certificates.ca());
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).startsWith("bad AdmissionReview: body is not JSON");

        HttpResponse<String> wrongKind = capo.postWebhook("{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}", certificates.ca());
        assertThat(wrongKind.statusCode()).isEqualTo(400);
        assertThat(wrongKind.body()).contains("expected AdmissionReview");
        // the service keeps serving
        assertThat(capo.postWebhook(fixture("evict-pod.json"), certificates.ca()).statusCode()).isEqualTo(200);
    }

    @Test
    void metricsKeepTheGoCapoNames() throws Exception {
        capo.postWebhook(fixture("evict-pod.json"), certificates.ca());
        String metrics = capo.get("/observe/metrics").body();
        assertThat(metrics).contains("ip_reserve_count ", "ip_reserve_count_max 300.0", "ip_reserve_evictions_count ",
                "leader_election_master_status{name=\"capo\"}", "capo_webhook_requests_total{",
                "capo_webhook_duration_seconds_bucket{");
    }

    @Test
    void healthEndpointsAnswer() throws Exception {
        HttpResponse<String> live = capo.get("/observe/health/live");
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(live.body()).contains("capo-leader-election", "capo-release-route")
                .doesNotContain("capo-caches", "capo-webhook");
        HttpResponse<String> ready = capo.get("/observe/health/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("capo-caches", "capo-webhook")
                .doesNotContain("capo-leader-election", "capo-release-route");
    }

    @Test
    void jolokiaIsReadOnly() throws Exception {
        HttpResponse<String> read = capo.get("/observe/jolokia/read/java.lang:type=Memory/HeapMemoryUsage");
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.body()).contains("\"status\":200").contains("\"used\"");
        HttpResponse<String> exec = capo.get("/observe/jolokia/exec/java.lang:type=Memory/gc");
        assertThat(exec.body()).doesNotContain("\"status\":200").contains("\"status\":403");
    }
}
