package io.capo.it;

import io.capo.testing.CapoInstance;
import io.capo.testing.TestCertificates;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;

import static io.capo.it.ItSupport.metric;
import static io.capo.it.ItSupport.nextIpv4;
import static io.capo.it.ItSupport.statefulPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Client-certificate authentication between the real API server and Capo, set up as docs/operations.md
 * ("Securing the webhook port") describes: the API server gets {@code --admission-control-config-file} with a
 * WebhookAdmissionConfiguration whose kubeconfig names the webhook's host:port and a client certificate issued by
 * the CA Capo trusts ({@code capo.tls.clientCaFile}). A dedicated API server: the flag would make the shared one
 * present that certificate to every IT's webhook.
 */
class WebhookClientAuthIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    static KubeApiServerFixture k8s;
    static ItEnvironment env;
    static KubernetesClient client;
    static CapoInstance capo;
    static TestCertificates clientCa;
    static String ns;
    static String node;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        clientCa = new TestCertificates("api-server-client-ca");
        TestCertificates.Client apiServer = clientCa.client("kube-apiserver");
        Path clientCert = Files.writeString(dir.resolve("apiserver-client.crt"), apiServer.certPem());
        Path clientKey = Files.writeString(dir.resolve("apiserver-client.key"), apiServer.keyPem());
        Path caFile = Files.writeString(Files.createDirectories(dir.resolve("client-ca")).resolve("ca.crt"),
                clientCa.caPem());
        int port = freePort();
        // the webhook is registered by url, so the API server looks the user up by the url's host:port
        Path kubeconfig = Files.writeString(dir.resolve("webhook-kubeconfig.yaml"), """
                apiVersion: v1
                kind: Config
                users:
                - name: "127.0.0.1:%d"
                  user:
                    client-certificate: %s
                    client-key: %s
                """.formatted(port, clientCert, clientKey));
        Path admission = Files.writeString(dir.resolve("admission-config.yaml"), """
                apiVersion: apiserver.config.k8s.io/v1
                kind: AdmissionConfiguration
                plugins:
                - name: ValidatingAdmissionWebhook
                  configuration:
                    apiVersion: apiserver.config.k8s.io/v1
                    kind: WebhookAdmissionConfiguration
                    kubeConfigFile: %s
                """.formatted(kubeconfig));
        k8s = KubeApiServerFixture.dedicated(Map.of("--admission-control-config-file", admission.toString()));
        env = new ItEnvironment(k8s, "client-auth", dir);
        client = env.client();
        ns = env.namespace("stateful", true);
        node = env.node("node");
        capo = env.startCapo(b -> b.property("camel.server.port", Integer.toString(port))
                .property("capo.tls.clientCaFile", caFile.toString())
                .property("capo.tls.clientAllowedNames", "kube-apiserver"));
        // waits until the API server's dry-run deletions reach Capo: they can only with the client certificate
        env.registerWebhook(capo, ns);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
        if (k8s != null) {
            k8s.stop();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    static HttpResponse<String> post(SSLContext tls) throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        return http.send(HttpRequest.newBuilder(capo.webhookUri()).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theApiServerPresentsItsCertificateAndADeletedPodsIpIsParked() {
        String ip = nextIpv4();
        Pod pod = statefulPod(client, ns, "authed-0", node, ip);
        double reserved = metric(capo, "capo_webhook_requests_total", "operation=\"delete\"", "result=\"reserved\"");

        client.pods().inNamespace(ns).withName("authed-0").withGracePeriod(0).delete();

        await().atMost(WAIT).until(() -> env.reservations().has(ip + "/32"));
        assertThat(env.reservations().entry(ip + "/32").path("uid").asText()).isEqualTo(pod.getMetadata().getUid());
        assertThat(metric(capo, "capo_webhook_requests_total", "operation=\"delete\"", "result=\"reserved\""))
                .isEqualTo(reserved + 1);
    }

    @Test
    void aCallerWithoutTheApiServersCertificateIsRefused() throws Exception {
        double failedHandshakes = metric(capo, "capo_webhook_connections_closed_total",
                "reason=\"tls-handshake-failed\"");

        assertThatThrownBy(() -> post(CapoInstance.trusting(env.certificates().ca()))).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> post(new TestCertificates("other-ca").client("kube-apiserver")
                .context(env.certificates().ca()))).isInstanceOf(IOException.class);
        HttpResponse<String> wrongName = post(clientCa.client("someone-else").context(env.certificates().ca()));

        assertThat(wrongName.statusCode()).isEqualTo(403);
        await().atMost(WAIT).until(() -> metric(capo, "capo_webhook_connections_closed_total",
                "reason=\"tls-handshake-failed\"") >= failedHandshakes + 2);
    }
}
