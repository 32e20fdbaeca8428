package io.capo.local;

import io.capo.config.CapoConfigLoader;
import io.capo.config.CapoSettings;
import io.capo.config.ConfigException;
import io.capo.reservation.GoDuration;
import io.capo.it.KubeApiServerFixture;
import io.capo.it.WebhookRegistration;
import io.capo.runtime.CapoConfiguration;
import io.capo.runtime.ServerCheck;
import io.capo.runtime.StartupOptions;
import io.capo.testing.TestCertificates;
import io.fabric8.kubernetes.client.Config;
import org.apache.camel.main.Main;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;

/**
 * Capo on this machine, without a cluster: what {@code scripts/run-local} starts.
 *
 * <ol>
 *   <li>a real kube-apiserver + etcd (fabric8 kube-api-test, the same {@link KubeApiServerFixture} as the
 *       integration tests; binaries from {@code scripts/provision-kube-binaries.sh}) with Calico's IPReservation
 *       CRDs ({@code projectcalico.org/v3} and {@code crd.projectcalico.org/v1}) installed;</li>
 *   <li>a test CA and a serving certificate for 127.0.0.1 in {@code <dir>/certs};</li>
 *   <li>the ValidatingWebhookConfiguration {@value #WEBHOOK_NAME} as the chart declares it (DELETE pods, CREATE
 *       pods/eviction, namespaceSelector {@code ip-reserve=enabled}, failurePolicy Fail), with a {@code url:}
 *       pointing at this Capo and the test CA as caBundle;</li>
 *   <li>a kubeconfig for the API server in {@code <dir>/kubeconfig};</li>
 *   <li>Capo itself, started as {@code io.capo.Application} starts it (same {@link CapoConfiguration}, routes,
 *       config loading and fail-fast checks), finding the API server through that kubeconfig.</li>
 * </ol>
 *
 * <p>There is no kubelet, scheduler or controller manager: pods are what you create and patch yourself.
 * Runs until Ctrl-C, which stops Capo, the API server and etcd (etcd's data is deleted).
 *
 * <p>Settings: {@code <dir>} is {@code -Dcapo.local.dir} or {@code $CAPO_LOCAL_DIR} (default {@code target/local}).
 * Without a config file ({@code -Dcapo.configFile} / {@code $CAPO_CONFIG_FILE}) the release settings are short for
 * a demo: {@code ipReserveTime=1m}, {@code ipReleasePeriod=5s}. Every Capo setting can be overridden as usual with
 * {@code -Dcapo.settings.<key>=<value>} (e.g. {@code -Dcapo.settings.metrics.bindAddress=:8081}); routes load from
 * {@code $CAPO_ROUTES_DIR} / {@code -Dcapo.routesDir} when set, with hot reload. The webhook's namespaceSelector
 * is fixed to {@code ip-reserve=enabled}.
 */
public final class LocalCapo {

    /** Printed once Capo is ready; {@code QuickStartIT} waits for it. */
    public static final String READY_LINE = "capo-local: ready";
    static final String WEBHOOK_NAME = "capo-local";
    static final String DEFAULT_DIR = "target/local";
    static final String DEFAULT_RESERVE_TIME = "1m";
    static final String DEFAULT_RELEASE_PERIOD = "5s";

    private LocalCapo() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(firstNonBlank(System.getProperty("capo.local.dir"), System.getenv("CAPO_LOCAL_DIR"),
                DEFAULT_DIR)).toAbsolutePath().normalize();
        Files.createDirectories(dir);

        StartupOptions initial = StartupOptions.from(System.getProperties(), System.getenv());
        if (initial.configFile().isEmpty()) {
            defaultSetting("ipReserveTime", DEFAULT_RESERVE_TIME);
            defaultSetting("ipReleasePeriod", DEFAULT_RELEASE_PERIOD);
        }
        TestCertificates certificates = new TestCertificates("capo-local-ca");
        Path certDir = certificates.writeServing(dir.resolve("certs"), "capo");
        System.setProperty(StartupOptions.SETTINGS_PREFIX + "webhook.certDir", certDir.toString());

        // validated before anything starts, as io.capo.Application does: a bad setting stops here naming the field
        StartupOptions options = StartupOptions.from(System.getProperties(), System.getenv());
        CapoSettings settings;
        try {
            CapoConfigLoader loader = new CapoConfigLoader();
            settings = options.configFile().map(f -> loader.load(f, options.overrides()))
                    .orElseGet(() -> loader.parse("", options.overrides())).settings();
        } catch (ConfigException e) {
            System.err.println("capo: invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }

        say("starting kube-apiserver and etcd (kube-api-test) ...");
        // loopback only: nothing on this machine's other interfaces may reach an API server without authentication
        KubeApiServerFixture k8s = KubeApiServerFixture.get(true);
        Path kubeconfig = writeKubeconfig(k8s.config(), dir.resolve("kubeconfig"));
        // fabric8 reads the system property "kubeconfig" before $KUBECONFIG: Capo finds the cluster as it would
        // with KUBECONFIG=<dir>/kubeconfig
        System.setProperty("kubeconfig", kubeconfig.toString());
        WebhookRegistration.register(k8s.client(), WEBHOOK_NAME, settings.webhookPort(), certificates.caPem());

        Thread announcer = new Thread(() -> announceWhenReady(settings, kubeconfig, k8s.config().getMasterUrl()),
                "capo-local-announcer");
        announcer.setDaemon(true);
        announcer.start();

        Main main = new Main();
        main.configure().addConfiguration(new CapoConfiguration());
        main.addMainListener(new ServerCheck());
        // override properties, so that they win over application.properties
        main.addOverrideProperty("camel.server.port", Integer.toString(settings.webhookPort()));
        main.addOverrideProperty("camel.management.port", Integer.toString(settings.managementPort()));
        options.configFile().ifPresent(f -> main.addOverrideProperty(StartupOptions.CONFIG_FILE, f.toString()));
        options.routesDir().ifPresent(routes -> {
            main.addOverrideProperty(StartupOptions.ROUTES_DIR, routes.toString());
            main.addOverrideProperty("camel.main.routesIncludePattern", "file:" + routes.toAbsolutePath() + "/*.yaml");
        });
        int code;
        try {
            code = main.run(args);
        } catch (Exception e) {
            System.err.println("capo: cannot start: " + e.getMessage());
            code = 1;
        }
        System.exit(code);
    }

    private static void announceWhenReady(CapoSettings settings, Path kubeconfig, String apiServer) {
        String management = "http://localhost:" + settings.managementPort();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<Void> ready = http.send(HttpRequest.newBuilder(URI.create(management
                        + "/observe/health/ready")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (ready.statusCode() == 200) {
                    break;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                return;
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return;
            }
        }
        String kubeconfigText;
        try {
            kubeconfigText = Files.readString(kubeconfig);
        } catch (IOException e) {
            kubeconfigText = "(unreadable: " + e + ")";
        }
        String kubectlDir = kubectlDir();
        String banner = """

                ==================================================================================
                Capo runs against a local kube-apiserver + etcd (no kubelet, no controllers).
                  API server   %s
                  kubeconfig   %s
                  management   %s/observe/health/ready  /observe/metrics  /observe/jolokia
                  webhook      https://127.0.0.1:%d/pod-ip-reservation (ValidatingWebhookConfiguration %s)
                  release      ipReserveTime=%s ipReleasePeriod=%s ipReserveMaxCount=%d
                In another terminal, from the repository root:
                  export KUBECONFIG=$PWD/%s
                  export PATH=%s:$PATH
                then follow the README's quick start. Ctrl-C stops Capo, the API server and etcd.
                --- %s ---
                %s==================================================================================
                """.formatted(apiServer, kubeconfig, management, settings.webhookPort(), WEBHOOK_NAME,
                GoDuration.format(settings.ipReserveTime()), GoDuration.format(settings.ipReleasePeriod()),
                settings.ipReserveMaxCount(), relative(kubeconfig), kubectlDir, kubeconfig, kubeconfigText);
        System.out.println(banner);
        System.out.println(READY_LINE);
        System.out.flush();
    }

    /** Where kube-api-test keeps kubectl of the version the API server runs. */
    private static String kubectlDir() {
        String root = firstNonBlank(System.getenv("KUBE_API_TEST_DIR"), null,
                System.getProperty("user.home") + "/.kubeapitest");
        String version = firstNonBlank(System.getenv("KUBE_API_TEST_API_SERVER_VERSION"), null, "1.34.12");
        Path k8s = Path.of(root, "k8s");
        try (var dirs = Files.list(k8s)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith(version.replace("*", ""))
                            && Files.isExecutable(d.resolve("kubectl")))
                    .map(Path::toString).sorted().findFirst().orElse(k8s + "/" + version + "-linux-amd64");
        } catch (IOException e) {
            return k8s + "/" + version + "-linux-amd64";
        }
    }

    private static String relative(Path file) {
        Path cwd = Path.of("").toAbsolutePath();
        return file.startsWith(cwd) ? cwd.relativize(file).toString() : file.toString();
    }

    /** A kubeconfig for the API server, with the admin client certificate kube-api-test generated. */
    static Path writeKubeconfig(Config config, Path file) throws IOException {
        String server = config.getMasterUrl().replaceAll("/+$", "");
        String yaml = """
                apiVersion: v1
                kind: Config
                clusters:
                  - name: capo-local
                    cluster:
                      server: %s
                      %s
                users:
                  - name: capo-local
                    user:
                      %s
                      %s
                contexts:
                  - name: capo-local
                    context:
                      cluster: capo-local
                      user: capo-local
                      namespace: default
                current-context: capo-local
                """.formatted(server,
                entry("certificate-authority", config.getCaCertFile(), config.getCaCertData()),
                entry("client-certificate", config.getClientCertFile(), config.getClientCertData()),
                entry("client-key", config.getClientKeyFile(), config.getClientKeyData()));
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
        return file;
    }

    private static String entry(String key, String file, String data) {
        if (file != null && !file.isBlank()) {
            return key + ": " + Path.of(file).toAbsolutePath();
        }
        if (data == null || data.isBlank()) {
            throw new IllegalStateException("the API server's kubeconfig has no " + key);
        }
        // fabric8 keeps *-data base64-encoded, as in the kubeconfig
        String encoded = data.trim().startsWith("-----") ? Base64.getEncoder()
                .encodeToString(data.getBytes(StandardCharsets.US_ASCII)) : data.trim();
        return key + "-data: " + encoded;
    }

    private static void defaultSetting(String key, String value) {
        String property = StartupOptions.SETTINGS_PREFIX + key;
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    private static String firstNonBlank(String first, String second, String fallback) {
        if (first != null && !first.isBlank()) {
            return first.trim();
        }
        if (second != null && !second.isBlank()) {
            return second.trim();
        }
        return fallback;
    }

    private static void say(String line) {
        System.out.println("capo-local: " + line);
        System.out.flush();
    }
}
