package io.capo.routes;

import io.capo.calico.CalicoReservationStore;
import io.capo.testing.CapoInstance;
import io.capo.testing.MockCluster;
import io.capo.testing.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Client-certificate authentication of the webhook port ({@code capo.tls.clientCaFile},
 * {@code capo.tls.clientAllowedNames}) against the real HTTPS server: only a certificate from the configured CA
 * that names an allowed name gets a review answered; the CA file reloads; the management port needs no certificate.
 */
class WebhookClientAuthRouteTest {

    static final String API_SERVER_NAME = "capo-webhook-service.capo-system.svc";

    static MockCluster cluster;
    static TestCertificates serving;
    static TestCertificates clientCa;
    static Path caFile;
    static Path certDir;
    static CapoInstance capo;
    static String review;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        cluster = new MockCluster();
        cluster.namespace("kafka", true);
        String uid = cluster.create(
                MockCluster.statefulPod("kafka", "kafka-0", "node-1", "10.244.1.17", "fd00:10:244:1::17"))
                .getMetadata().getUid();
        // the review describes the pod as the cluster has it: the webhook parks only what the cluster confirms
        review = fixture("delete-pod.json").replace("4b1e3c2a-0000-4000-8000-000000000001", uid);
        serving = new TestCertificates("serving-ca");
        clientCa = new TestCertificates("api-server-client-ca");
        caFile = dir.resolve("client-ca").resolve("ca.crt");
        Files.createDirectories(caFile.getParent());
        Files.writeString(caFile, clientCa.caPem());
        certDir = serving.writeServing(dir.resolve("certs"), "capo");
        capo = CapoInstance.builder(cluster.client(), certDir)
                .property("capo.tls.clientCaFile", caFile.toString())
                .property("capo.tls.clientAllowedNames", API_SERVER_NAME + ",kube-apiserver")
                .start();
        await().until(() -> capo.bean("reservationStore", CalicoReservationStore.class).synced());
    }

    @AfterAll
    static void stop() throws Exception {
        capo.close();
        cluster.close();
    }

    static String fixture(String name) throws IOException {
        try (InputStream in = WebhookClientAuthRouteTest.class.getResourceAsStream("/admission/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static HttpResponse<String> post(SSLContext tls) throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        return client.send(HttpRequest.newBuilder(capo.webhookUri()).header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(review))
                        .build(), HttpResponse.BodyHandlers.ofString());
    }

    static double metric(String prefix) throws Exception {
        return capo.get("/observe/metrics").body().lines().filter(l -> l.startsWith(prefix))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    static final String HANDSHAKE_FAILED = "capo_webhook_connections_closed_total{reason=\"tls-handshake-failed\"";

    @Test
    void withoutAClientCertificateTheHandshakeFails() throws Exception {
        double before = metric(HANDSHAKE_FAILED);

        assertThatThrownBy(() -> post(CapoInstance.trusting(serving.ca()))).isInstanceOf(IOException.class);

        await().untilAsserted(() -> assertThat(metric(HANDSHAKE_FAILED)).isGreaterThan(before));
        assertThat(capo.get("/observe/health/ready").statusCode()).isEqualTo(200);
    }

    @Test
    void aCertificateFromAnotherCaIsRefusedInTheHandshake() throws Exception {
        TestCertificates other = new TestCertificates("api-server-client-ca");
        TestCertificates.Client forged = other.client("kube-apiserver", API_SERVER_NAME);
        double before = metric(HANDSHAKE_FAILED);

        assertThatThrownBy(() -> post(forged.context(serving.ca()))).isInstanceOf(IOException.class);

        await().untilAsserted(() -> assertThat(metric(HANDSHAKE_FAILED)).isGreaterThan(before));
    }

    @Test
    void aCertificateFromTheConfiguredCaNamingAnAllowedNameGetsTheReviewAnswered() throws Exception {
        HttpResponse<String> bySan = post(clientCa.client("system:apiserver", API_SERVER_NAME).context(serving.ca()));
        assertThat(bySan.statusCode()).isEqualTo(200);
        assertThat(bySan.body()).contains("\"uid\":\"705ab4f5-6393-11e8-b7cc-42010a800002\"", "\"allowed\":true");
        assertThat(capo.bean("reservationStore", CalicoReservationStore.class).find("10.244.1.17/32")).isPresent();

        HttpResponse<String> byCn = post(clientCa.client("kube-apiserver").context(serving.ca()));
        assertThat(byCn.statusCode()).isEqualTo(200);
    }

    @Test
    void aCertificateFromTheConfiguredCaNamingNoAllowedNameIsAnswered403() throws Exception {
        double before = metric("capo_webhook_connections_closed_total{reason=\"client-not-allowed\"");

        HttpResponse<String> response = post(clientCa.client("intruder", "intruder.example.com")
                .context(serving.ca()));

        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.body()).isEqualTo("client certificate names intruder, intruder.example.com, none of them "
                + "in capo.tls.clientAllowedNames");
        assertThat(metric("capo_webhook_connections_closed_total{reason=\"client-not-allowed\"")).isEqualTo(before + 1);
    }

    @Test
    void theCaFileIsReloadedAndAnUnusableOneIsRefused() throws Exception {
        TestCertificates rotated = new TestCertificates("rotated-client-ca");
        SSLContext oldClient = clientCa.client("kube-apiserver").context(serving.ca());
        SSLContext newClient = rotated.client("kube-apiserver").context(serving.ca());
        String refused = "capo_webhook_certificate_reload_refused_total{reason=\"client-ca-unreadable\"";
        try {
            Files.writeString(caFile, rotated.caPem());
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                    .until(() -> post(newClient).statusCode() == 200);
            assertThatThrownBy(() -> post(oldClient)).isInstanceOf(IOException.class);

            // half written: the CAs in use stay, one refusal is counted
            double before = metric(refused);
            String pem = rotated.caPem();
            Files.writeString(caFile, pem.substring(0, pem.length() / 2));
            await().atMost(Duration.ofSeconds(20)).until(() -> metric(refused) == before + 1);
            assertThat(post(newClient).statusCode()).isEqualTo(200);
        } finally {
            // both CAs in one bundle: the other tests' clients are trusted again
            Files.writeString(caFile, clientCa.caPem() + rotated.caPem());
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> post(oldClient).statusCode() == 200);
        }
    }

    @Test
    void aRenewedServingCertificateKeepsRequiringClientCertificates() throws Exception {
        TestCertificates renewed = new TestCertificates("renewed-serving-ca");
        SSLContext apiServer = clientCa.client("kube-apiserver").context(renewed.ca());
        try {
            renewed.writeServing(certDir, "capo");
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> post(apiServer).statusCode() == 200);

            // the swapped-in SSL options carry the client CAs too: without them every handshake would fail, and
            // without client authentication anyone would get in
            assertThatThrownBy(() -> post(CapoInstance.trusting(renewed.ca()))).isInstanceOf(IOException.class);
            assertThat(post(apiServer).statusCode()).isEqualTo(200);
        } finally {
            serving.writeServing(certDir, "capo");
            SSLContext original = clientCa.client("kube-apiserver").context(serving.ca());
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> post(original).statusCode() == 200);
        }
    }
}
