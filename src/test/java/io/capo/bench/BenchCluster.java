package io.capo.bench;

import io.capo.it.ItEnvironment;
import io.capo.it.ItSupport;
import io.capo.it.WebhookRegistration;
import io.capo.calico.CalicoApi;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The benchmark's cluster: the integration tests' real kube-apiserver + etcd ({@link ItEnvironment}), a kubeconfig
 * for it, and Capo replicas as separate JVMs behind a round-robin TCP {@link Balancer} (as a Service spreads connections),
 * registered as the webhook exactly as the Helm chart registers it.
 */
final class BenchCluster implements AutoCloseable {

    static final String WEBHOOK_NAME = WebhookRegistration.NAME_PREFIX + "bench";
    private static final java.util.concurrent.atomic.AtomicInteger STARTED = new java.util.concurrent.atomic.AtomicInteger();

    private final ItEnvironment env;
    private final Path workDir;
    private final Path jar;
    private final Path kubeconfig;
    private final List<CapoProcess> replicas = new ArrayList<>();
    private Balancer balancer;
    private boolean registered;

    BenchCluster(Path workDir, Path jar) throws IOException {
        this.workDir = Files.createDirectories(workDir);
        this.jar = jar;
        this.env = new ItEnvironment("bench", workDir);
        this.kubeconfig = writeKubeconfig(env.k8s().config(), workDir.resolve("kubeconfig"));
    }

    ItEnvironment env() {
        return env;
    }

    KubernetesClient client() {
        return env.client();
    }

    List<CapoProcess> replicas() {
        return replicas;
    }

    /** Starts n replicas at once (as a rollout would) and waits until each is ready. */
    List<CapoProcess> startReplicas(int n, Map<String, String> settings) throws Exception {
        return startReplicas(n, settings, "");
    }

    /** As {@link #startReplicas(int, Map)}, with JVM options added to the replicas' own. */
    List<CapoProcess> startReplicas(int n, Map<String, String> settings, String extraJavaOpts) throws Exception {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("webhook.certDir", env.certDir().toString());
        all.put("reservationObjectName", env.objectName());
        all.put("leaderElection.resourceNamespace", "default");
        all.put("leaderElection.resourceName", env.leaseName());
        all.putAll(settings);
        List<CapoProcess> started = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            started.add(CapoProcess.start(jar, kubeconfig, workDir, "capo-bench-" + STARTED.getAndIncrement(), all,
                    extraJavaOpts));
        }
        replicas.addAll(started);
        ExecutorService wait = Executors.newFixedThreadPool(n);
        try {
            List<Future<Long>> ready = new ArrayList<>();
            for (CapoProcess p : started) {
                ready.add(wait.submit(() -> p.awaitReady(Duration.ofMinutes(2))));
            }
            for (Future<Long> f : ready) {
                f.get();
            }
        } finally {
            wait.shutdownNow();
        }
        if (balancer != null) {
            balancer.close();
        }
        balancer = replicas.size() == 1 ? null : new Balancer(replicas.stream()
                .map(p -> new InetSocketAddress("127.0.0.1", p.webhookPort())).toList());
        return started;
    }

    void stopReplicas() {
        unregisterWebhook();
        replicas.forEach(CapoProcess::close);
        replicas.clear();
        if (balancer != null) {
            balancer.close();
            balancer = null;
        }
    }

    /**
     * Registers the webhook (at the balancer, or at the replica when there is one) and waits until the API server's
     * calls reach a replica.
     */
    void registerWebhook(String optedInNamespace) {
        registerWebhook(webhookPort(), optedInNamespace);
    }

    /** Where the webhook is served: the balancer, or the replica when there is one. */
    int webhookPort() {
        return balancer != null ? balancer.port() : replicas.get(0).webhookPort();
    }

    /** Registers the webhook at a local port and waits until the API server calls it (dry-run deletes of a canary). */
    void registerWebhook(int port, String optedInNamespace) {
        WebhookRegistration.register(client(), WEBHOOK_NAME, port, env.certificates().caPem());
        registered = true;
        String canary = ItSupport.unique("canary");
        ItSupport.runningPod(client(), optedInNamespace, canary, "no-node", Map.of("app", "canary"),
                ItSupport.nextIpv4());
        double before = webhookCalls();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (webhookCalls() <= before) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the API server does not call the webhook");
            }
            client().pods().inNamespace(optedInNamespace).withName(canary).dryRun().delete();
            sleep(200);
        }
        client().pods().inNamespace(optedInNamespace).withName(canary).withGracePeriod(0).delete();
    }

    /** Calls of the API server to the webhook that got an answer, from its own metrics. */
    double webhookCalls() {
        return PromText.parse(client().raw("/metrics")).sum("apiserver_admission_webhook_request_total", "name",
                AdmissionBurst.WEBHOOK);
    }

    void unregisterWebhook() {
        if (registered) {
            WebhookRegistration.unregister(client(), WEBHOOK_NAME);
            registered = false;
            // the API server applies registration changes through an informer: give it a moment
            sleep(1500);
        }
    }

    /** Names of this run's reservation objects for the given count ({@code name}, {@code name-1}, …). */
    List<String> objectNames(int objects) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < objects; i++) {
            names.add(i == 0 ? env.objectName() : env.objectName() + "-" + i);
        }
        return names;
    }

    /** Every stored reservation of the run (a parked CIDR and its ReservedIP), over all objects. */
    Map<String, String> storedUids(int objects) {
        java.util.Set<String> parked = new java.util.HashSet<>();
        for (String name : objectNames(objects)) {
            parked.addAll(ItSupport.read(client(), CalicoApi.V3, name).cidrs());
        }
        Map<String, String> uids = new LinkedHashMap<>();
        for (var r : ItSupport.reservedIps(client(), env.objectName())) {
            var entry = ItSupport.JSON_MAPPER.valueToTree(r.getAdditionalProperties().get("spec"));
            String cidr = entry.path("cidr").asText();
            if (parked.contains(cidr)) {
                uids.put(cidr, entry.path("uid").asText() + (entry.hasNonNull("goneAt") ? "|gone" : ""));
            }
        }
        return uids;
    }

    /** Serialized size in bytes of the run's IPReservation objects as the API server serves them, and their CIDRs. */
    long[] objectBytes(int objects) {
        long bytes = 0;
        long cidrs = 0;
        for (String name : objectNames(objects)) {
            var r = client().genericKubernetesResources(new CalicoApi(CalicoApi.V3).context()).withName(name).get();
            if (r != null) {
                bytes += client().getKubernetesSerialization().asJson(r).getBytes(StandardCharsets.UTF_8).length;
                cidrs += ItSupport.read(client(), CalicoApi.V3, name).cidrs().size();
            }
        }
        return new long[]{bytes, cidrs};
    }

    void deleteObjects(int objects) {
        for (String name : objectNames(objects)) {
            client().genericKubernetesResources(new CalicoApi(CalicoApi.V3).context()).withName(name).delete();
        }
        client().genericKubernetesResources(io.capo.calico.ReservedIps.context())
                .inNamespace(ItSupport.CAPO_NAMESPACE).withLabel(io.capo.calico.ReservedIps.SET_LABEL,
                        env.objectName()).delete();
    }

    @Override
    public void close() {
        try {
            stopReplicas();
        } finally {
            for (int i = 1; i < 16; i++) {
                try {
                    client().genericKubernetesResources(new CalicoApi(CalicoApi.V3).context())
                            .withName(env.objectName() + "-" + i).delete();
                } catch (RuntimeException ignored) {
                    // best effort
                }
            }
            env.close();
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A kubeconfig for the API server with kube-api-test's admin certificate (as scripts/run-local writes it). */
    static Path writeKubeconfig(Config config, Path file) throws IOException {
        String yaml = """
                apiVersion: v1
                kind: Config
                clusters:
                  - name: bench
                    cluster:
                      server: %s
                      %s
                users:
                  - name: bench
                    user:
                      %s
                      %s
                contexts:
                  - name: bench
                    context:
                      cluster: bench
                      user: bench
                      namespace: default
                current-context: bench
                """.formatted(config.getMasterUrl().replaceAll("/+$", ""),
                entry("certificate-authority", config.getCaCertFile(), config.getCaCertData()),
                entry("client-certificate", config.getClientCertFile(), config.getClientCertData()),
                entry("client-key", config.getClientKeyFile(), config.getClientKeyData()));
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        return file;
    }

    private static String entry(String key, String file, String data) {
        if (file != null && !file.isBlank()) {
            return key + ": " + Path.of(file).toAbsolutePath();
        }
        String encoded = data.trim().startsWith("-----") ? Base64.getEncoder()
                .encodeToString(data.getBytes(StandardCharsets.US_ASCII)) : data.trim();
        return key + "-data: " + encoded;
    }
}
