package io.capo.it;

import io.capo.testing.MockCluster;
import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;

/**
 * One real kube-apiserver + etcd (fabric8 kube-api-test) per JVM, started on first use and stopped by a
 * shutdown hook, with Calico's IPReservation CRDs installed. Every IT class shares it and keeps to its own
 * namespaces, reservation object and Lease.
 *
 * <p>Version: env {@code KUBE_API_TEST_API_SERVER_VERSION}, default {@value #DEFAULT_VERSION}. Offline mode is on
 * when the binaries for that version are already under {@code $KUBE_API_TEST_DIR/k8s} (default
 * {@code ~/.kubeapitest}, see scripts/provision-kube-binaries.sh); otherwise kube-api-test downloads them.
 */
public final class KubeApiServerFixture {

    private static final Logger LOG = LoggerFactory.getLogger(KubeApiServerFixture.class);
    static final String DEFAULT_VERSION = "1.34.12";

    private static KubeApiServerFixture instance;

    private final KubeAPIServer server;
    private final String kubeConfigYaml;
    private final KubernetesClient client;

    private KubeApiServerFixture(KubeAPIServer server) {
        this.server = server;
        this.kubeConfigYaml = server.getKubeConfigYaml();
        this.client = newClient();
    }

    /** The shared server, started (and the CRDs installed) on the first call. */
    public static synchronized KubeApiServerFixture get() {
        return get(false);
    }

    /**
     * @param loopbackOnly bind the API server to 127.0.0.1 instead of every interface (scripts/run-local; etcd is
     *                     bound by the script's wrapper, kube-api-test has no flag for it)
     */
    public static synchronized KubeApiServerFixture get(boolean loopbackOnly) {
        if (instance == null) {
            String version = env("KUBE_API_TEST_API_SERVER_VERSION", DEFAULT_VERSION);
            boolean offline = binariesPresent(version);
            long start = System.nanoTime();
            KubeAPIServerConfigBuilder config = KubeAPIServerConfigBuilder.anAPIServerConfig()
                    .withApiServerVersion(version).withOfflineMode(offline);
            if (loopbackOnly) {
                config.withApiServerFlag("--bind-address", "127.0.0.1");
            }
            KubeAPIServer server = new KubeAPIServer(config.build());
            server.start();
            Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "kube-apiserver-stop"));
            KubeApiServerFixture fixture = new KubeApiServerFixture(server);
            MockCluster.installCrds(fixture.client);
            for (String crd : List.of("ipreservations.projectcalico.org", "ipreservations.crd.projectcalico.org",
                    "reservedips.capo.io")) {
                await().atMost(Duration.ofSeconds(30)).until(() -> isEstablished(fixture.client, crd));
            }
            LOG.warn("kube-apiserver {} ({}) ready in {} ms", version, offline ? "local binaries" : "downloaded",
                    (System.nanoTime() - start) / 1_000_000);
            instance = fixture;
        }
        return instance;
    }

    /**
     * A second API server of its own (own etcd, own port) with extra kube-apiserver flags, for an IT whose flags
     * would change what the shared server does for every other IT (e.g. {@code --admission-control-config-file}).
     * The caller stops it ({@link #stop()}); the CRDs are installed as on the shared one.
     */
    public static KubeApiServerFixture dedicated(Map<String, String> flags) {
        String version = env("KUBE_API_TEST_API_SERVER_VERSION", DEFAULT_VERSION);
        KubeAPIServerConfigBuilder config = KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withApiServerVersion(version).withOfflineMode(binariesPresent(version));
        flags.forEach(config::withApiServerFlag);
        KubeAPIServer server = new KubeAPIServer(config.build());
        server.start();
        KubeApiServerFixture fixture = new KubeApiServerFixture(server);
        MockCluster.installCrds(fixture.client);
        for (String crd : List.of("ipreservations.projectcalico.org", "ipreservations.crd.projectcalico.org")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> isEstablished(fixture.client, crd));
        }
        return fixture;
    }

    /** Stops a {@link #dedicated} server (the shared one stops with the JVM). */
    public void stop() {
        client.close();
        server.stop();
    }

    private static boolean isEstablished(KubernetesClient client, String name) {
        var crd = client.apiextensions().v1().customResourceDefinitions().withName(name).get();
        return crd != null && crd.getStatus() != null && crd.getStatus().getConditions() != null
                && crd.getStatus().getConditions().stream()
                .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** Whether kube-api-test finds binaries for the version (an exact version or a 1.34.* wildcard) locally. */
    static boolean binariesPresent(String version) {
        String dir = env("KUBE_API_TEST_DIR", System.getProperty("user.home") + File.separator + ".kubeapitest");
        Path k8s = Path.of(dir, "k8s");
        if (!Files.isDirectory(k8s)) {
            return false;
        }
        String prefix = version.endsWith("*") ? version.substring(0, version.length() - 1) : version + "-";
        File[] matches = k8s.toFile().listFiles((d, name) -> name.startsWith(prefix)
                && new File(d, name + File.separator + "kube-apiserver").isFile());
        return matches != null && matches.length > 0;
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    /** The test's own client (admin). */
    public KubernetesClient client() {
        return client;
    }

    /** The admin kubeconfig, e.g. for a Capo started as its own process. */
    public String kubeConfigYaml() {
        return kubeConfigYaml;
    }

    public Config config() {
        return Config.fromKubeconfig(kubeConfigYaml);
    }

    /** A fresh client, as another replica would have. */
    public KubernetesClient newClient() {
        return new KubernetesClientBuilder().withConfig(config()).build();
    }

    /**
     * A fresh client that sends every request once: fabric8 retries 429 and 5xx answers by itself (about 20s with
     * its defaults), which would hide a refused eviction or a denied deletion.
     */
    public KubernetesClient newClientWithoutRetries() {
        Config config = new ConfigBuilder(config()).withRequestRetryBackoffLimit(0).build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** A fresh client talking to the API server through another address (e.g. a proxy on 127.0.0.1). */
    public KubernetesClient newClient(String masterUrl) {
        Config config = new ConfigBuilder(config()).withMasterUrl(masterUrl).build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** host:port of the API server. */
    public java.net.URI uri() {
        return java.net.URI.create(config().getMasterUrl());
    }
}
