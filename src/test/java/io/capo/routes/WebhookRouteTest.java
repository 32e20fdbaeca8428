package io.capo.routes;

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
        // the pod the fixtures describe: the webhook writes only what the cluster confirms
        cluster.create(new io.fabric8.kubernetes.api.model.PodBuilder(
                MockCluster.statefulPod("kafka", "kafka-0", "node-1", "10.244.1.17", "fd00:10:244:1::17"))
                .editMetadata().withUid("4b1e3c2a-0000-4000-8000-000000000001").endMetadata().build());
        certificates = new TestCertificates("capo-test-ca");
        // JMX on, as in production, so that Camel's MBeans are there for Jolokia
        capo = CapoInstance.builder(cluster.client(), certificates.writeServing(dir.resolve("certs"), "capo"))
                .property("camel.main.jmxEnabled", "true").start();
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
    void jolokiaShowsCamelButNotTheJvmsSecretsAndRefusesNotifications() throws Exception {
        capo.postWebhook(fixture("evict-pod.json"), certificates.ca());
        // what Hawtio's Camel plugin reads
        assertThat(capo.get("/observe/jolokia/read/org.apache.camel:type=routes,*/ExchangesTotal").body())
                .contains("\"status\":200", "admission-webhook", "ExchangesTotal");
        assertThat(capo.get("/observe/jolokia/read/org.apache.camel:type=context,*").body())
                .contains("\"status\":200", "CamelVersion");
        assertThat(capo.get("/observe/jolokia/read/org.apache.camel:type=processors,*/ExchangesCompleted").body())
                .contains("\"status\":200");
        String context = "org.apache.camel:context=" + capo.identity() + ",type=context,name=\\\"" + capo.identity()
                + "\\\"";
        assertThat(postJolokia("{\"type\":\"exec\",\"mbean\":\"" + context + "\",\"operation\":\"dumpRoutesAsXml()\"}")
                .body()).contains("\"status\":200", "admission-webhook");
        assertThat(postJolokia("{\"type\":\"exec\",\"mbean\":\"" + context + "\",\"operation\":\"stop()\"}")
                .body()).contains("\"status\":403");
        assertThat(capo.get("/observe/jolokia/search/org.apache.camel:type=routes,*").body()).contains("\"status\":200");
        assertThat(capo.get("/observe/jolokia/list/org.apache.camel").body()).contains("\"status\":200");
        assertThat(capo.get("/observe/jolokia/version").body()).contains("\"status\":200");
        assertThat(capo.get("/observe/jolokia/read/java.lang:type=Runtime/Uptime").body()).contains("\"status\":200");
        assertThat(capo.get("/observe/jolokia/read/java.lang:type=Threading/ThreadCount").body())
                .contains("\"status\":200");

        // the JVM's system properties and arguments may hold secrets
        for (String attribute : new String[]{"SystemProperties", "InputArguments", "ClassPath"}) {
            assertThat(capo.get("/observe/jolokia/read/java.lang:type=Runtime/" + attribute).body()).as(attribute)
                    .contains("\"status\":403").doesNotContain("java.version");
        }
        assertThat(capo.get("/observe/jolokia/read/java.lang:type=Runtime").body()).doesNotContain("java.version");
        // nothing outside Camel and the JVM basics, no operation that changes anything
        assertThat(capo.get("/observe/jolokia/read/JMImplementation:type=MBeanServerDelegate/MBeanServerId").body())
                .contains("\"status\":403");

        // notifications would let any caller register listeners: Jolokia's policy does not cover them
        HttpResponse<String> register = capo.get("/observe/jolokia/notification/register");
        assertThat(register.statusCode()).isEqualTo(403);
        assertThat(register.body()).contains("\"status\":403", "notification");
        assertThat(capo.get("/observe/jolokia/?p=/notification/register").statusCode()).isEqualTo(403);
        for (String body : new String[]{"{\"type\":\"notification\",\"command\":\"register\"}",
                "[{\"type\":\"version\"},{\"type\":\"NOTIFICATION\",\"command\":\"register\"}]"}) {
            HttpResponse<String> posted = postJolokia(body);
            assertThat(posted.statusCode()).as(body).isEqualTo(403);
        }
        assertThat(postJolokia("{\"type\":\"version\"}").body()).contains("\"status\":200");
    }

    static final java.net.http.HttpClient MANAGEMENT = java.net.http.HttpClient.newBuilder()
            .version(java.net.http.HttpClient.Version.HTTP_1_1).build();

    static HttpResponse<String> postJolokia(String body) throws Exception {
        return MANAGEMENT.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        "http://localhost:" + capo.managementPort() + "/observe/jolokia/"))
                .timeout(java.time.Duration.ofSeconds(30))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "TLSv1.2, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, false",
            "TLSv1.2, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, false",
            "TLSv1.2, TLS_RSA_WITH_AES_128_GCM_SHA256, false",
            "TLSv1.2, TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, false",
            "TLSv1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, true",
            "TLSv1.2, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, true",
            "TLSv1.3, TLS_AES_128_GCM_SHA256, true"})
    void onlyForwardSecretAeadSuitesAreAccepted(String protocol, String suite, boolean accepted) throws Exception {
        javax.net.ssl.SSLContext context = CapoInstance.trusting(certificates.ca());
        // the JVM itself would offer and accept the suite: a refusal comes from Capo's restriction
        assertThat(context.getDefaultSSLParameters().getCipherSuites()).contains(suite);
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                .createSocket("localhost", capo.webhookPort())) {
            socket.setSoTimeout(10_000);
            socket.setEnabledProtocols(new String[]{protocol});
            socket.setEnabledCipherSuites(new String[]{suite});
            if (accepted) {
                socket.startHandshake();
                assertThat(socket.getSession().getCipherSuite()).isEqualTo(suite);
            } else {
                org.assertj.core.api.Assertions.assertThatThrownBy(socket::startHandshake)
                        .isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
            }
        }
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
