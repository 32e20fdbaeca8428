package io.capo.testing;

import io.capo.runtime.CapoConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.main.Main;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import static org.awaitility.Awaitility.await;

/**
 * One Capo replica running in this JVM, exactly as {@code java -jar capo.jar} runs it (same configuration
 * class, same bundled or mounted routes), on free ports and with the test's Kubernetes client.
 */
public final class CapoInstance implements AutoCloseable {

    private final Main main;
    private final String identity;

    private CapoInstance(Main main, String identity) {
        this.main = main;
        this.identity = identity;
    }

    public static Builder builder(KubernetesClient client, Path certDir) {
        return new Builder(client, certDir);
    }

    public static final class Builder {
        private final KubernetesClient client;
        private final Map<String, String> properties = new LinkedHashMap<>();
        private String identity = "capo-test-" + Long.toHexString(System.nanoTime());
        private Clock clock = Clock.systemUTC();

        Builder(KubernetesClient client, Path certDir) {
            this.client = client;
            properties.put("capo.settings.webhook.certDir", certDir.toString());
            properties.put("capo.settings.leaderElection.resourceNamespace", "default");
            properties.put("capo.settings.leaderElection.leaseDuration", "3s");
            properties.put("capo.settings.leaderElection.renewDeadline", "2s");
            properties.put("capo.settings.leaderElection.retryPeriod", "500ms");
            properties.put("capo.settings.ipReleasePeriod", "1s");
            // two different ports: with the same port Camel serves management on the HTTPS webhook server
            properties.put("camel.server.port", Integer.toString(freePort()));
            properties.put("camel.management.port", Integer.toString(freePort()));
            properties.put("camel.main.jmxEnabled", "false");
            properties.put("camel.main.shutdownTimeout", "5");
        }

        public Builder identity(String value) {
            identity = value;
            return this;
        }

        public Builder clock(Clock value) {
            clock = value;
            return this;
        }

        /** A Capo setting as in capo_config.yaml, e.g. {@code ipReserveTime}. */
        public Builder setting(String key, String value) {
            properties.put("capo.settings." + key, value);
            return this;
        }

        public Builder property(String key, String value) {
            properties.put(key, value);
            return this;
        }

        public Builder routesDir(Path dir) {
            properties.put("capo.routesDir", dir.toString());
            properties.put("camel.main.routesIncludePattern", "file:" + dir.toAbsolutePath() + "/*.yaml");
            return this;
        }

        public Builder configFile(Path file) {
            properties.put("capo.configFile", file.toString());
            return this;
        }

        public CapoInstance start() throws Exception {
            Main main = new Main();
            main.configure().addConfiguration(new CapoConfiguration(client, clock));
            properties.put("capo.identity", identity);
            properties.put("camel.main.name", identity);
            properties.forEach(main::addOverrideProperty);
            main.start();
            CapoInstance instance = new CapoInstance(main, identity);
            try {
                await().atMost(Duration.ofSeconds(60)).until(instance::ready);
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                String health;
                try {
                    health = instance.get("/observe/health/ready").body();
                } catch (Exception unreadable) {
                    health = unreadable.toString();
                }
                main.stop();
                throw new IllegalStateException("Capo did not become ready: " + health, e);
            }
            return instance;
        }
    }

    static int freePort() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public String identity() {
        return identity;
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    public <T> T bean(String name, Class<T> type) {
        return context().getRegistry().lookupByNameAndType(name, type);
    }

    public int webhookPort() {
        return server(true).getPort();
    }

    public int managementPort() {
        return server(false).getPort();
    }

    private VertxPlatformHttpServer server(boolean tls) {
        return context().hasServices(VertxPlatformHttpServer.class).stream()
                .filter(s -> s.isUseGlobalSslContextParameters() == tls).findFirst().orElseThrow();
    }

    public URI webhookUri() {
        return URI.create("https://localhost:" + webhookPort() + "/pod-ip-reservation");
    }

    public boolean ready() {
        try {
            return get("/observe/health/ready").statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * GETs a management path over HTTP/1.1, as Prometheus and the kubelet do, with time limits so that a stuck call
     * fails the test. The JDK client's default offers an h2c upgrade on plain HTTP; with it, a call once never got
     * its answer while every server thread was idle (Vert.x has had h2c-upgrade bugs), and the IT run hung.
     */
    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return MANAGEMENT_CLIENT.send(HttpRequest.newBuilder(URI.create("http://localhost:" + managementPort() + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static final HttpClient MANAGEMENT_CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** POSTs a body to the webhook over HTTPS, trusting the given CA. */
    public HttpResponse<String> postWebhook(String body, X509Certificate ca) throws Exception {
        return postWebhook(body, ca, "application/json");
    }

    public HttpResponse<String> postWebhook(String body, X509Certificate ca, String contentType) throws Exception {
        return httpsClient(ca).send(HttpRequest.newBuilder(webhookUri()).header("Content-Type", contentType)
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public static HttpClient httpsClient(X509Certificate ca) throws Exception {
        return HttpClient.newBuilder().sslContext(trusting(ca)).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** A TLS context that trusts the given CA only. */
    public static SSLContext trusting(X509Certificate ca) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca);
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, factory.getTrustManagers(), null);
        return ssl;
    }

    @Override
    public void close() throws Exception {
        main.stop();
    }
}
