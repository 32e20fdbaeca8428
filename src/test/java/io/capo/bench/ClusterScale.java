package io.capo.bench;

import io.capo.it.ItSupport;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIPBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * Issue 11: what one replica costs as the cluster grows. A cluster of 200 namespaces (10 opted in) and 100 nodes
 * is filled with pods of a realistic shape (labels, annotations, env, probes, volumes, status, and managedFields
 * of two field managers: a server-side apply of the spec and a status update), spread evenly over the namespaces.
 * At each size one replica starts with the chart's JVM options: time to Ready, CPU until then, live heap after a
 * full GC, RSS, what the API server sent for Capo's LISTs, the webhook's latency over 50 sequential deletions, and a
 * restart (a second full list).
 */
final class ClusterScale {

    static final int NAMESPACES = 200;
    static final int OPTED_IN = 10;
    static final int NODES = 100;
    private static final Pattern HEAP_USED = Pattern.compile(
            "(?:generation|garbage-first heap)\\s+total \\d+K, used (\\d+)K");

    record Result(int pods, int podsOptedIn, long readyMs, long cpuMsToReady, long liveHeap, long rss,
                  double listMiB, double listSeconds, long listRequests, double webhookP50Ms, double webhookMaxMs,
                  double webhookServerMeanMs, long restartReadyMs, double restartListMiB, double load) {
    }

    private final BenchCluster cluster;
    private final KubernetesClient client;
    private final List<String> namespaces = new ArrayList<>();
    private final List<String> nodes = new ArrayList<>();
    private int created;
    private int createdOptedIn;

    ClusterScale(BenchCluster cluster) {
        this.cluster = cluster;
        this.client = cluster.client();
    }

    private void layout() {
        if (!namespaces.isEmpty()) {
            return;
        }
        for (int i = 0; i < NAMESPACES; i++) {
            namespaces.add(cluster.env().namespace("scale" + i + "-", i < OPTED_IN));
        }
        for (int i = 0; i < NODES; i++) {
            nodes.add(cluster.env().node("scale-node" + i + "-"));
        }
    }

    /** Grows the cluster to {@code total} pods (never shrinks it); returns the seconds it took. */
    long populate(int total, int threads) throws Exception {
        layout();
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> work = new ArrayList<>();
            int from = created;
            int chunk = Math.max(1, (total - from) / threads + 1);
            for (int lo = from; lo < total; lo += chunk) {
                int a = lo;
                int b = Math.min(total, lo + chunk);
                work.add(pool.submit(() -> {
                    for (int i = a; i < b; i++) {
                        createPod(i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        for (int i = created; i < total; i++) {
            if (i % NAMESPACES < OPTED_IN) {
                createdOptedIn++;
            }
        }
        created = Math.max(created, total);
        return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
    }

    int podsOptedIn() {
        return createdOptedIn;
    }

    /** JSON size of one pod as stored (with managedFields). */
    int podJsonBytes() {
        Pod pod = client.pods().inNamespace(namespaces.get(0)).withName(podName(0)).get();
        return client.getKubernetesSerialization().asJson(pod).getBytes(StandardCharsets.UTF_8).length;
    }

    private static String podName(int i) {
        return "app-" + (i / NAMESPACES) + "-" + i % 7;
    }

    private void createPod(int i) {
        String ns = namespaces.get(i % NAMESPACES);
        String name = podName(i);
        String node = nodes.get(i % NODES);
        String ip = "10." + (64 + (i >> 16)) + "." + ((i >> 8) & 255) + "." + (i & 255);
        Pod spec = shape(ns, name, node, i);
        Pod applied = client.pods().inNamespace(ns).resource(spec).fieldManager("kubectl").forceConflicts()
                .serverSideApply();
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        applied.setStatus(new PodStatusBuilder().withPhase("Running").withHostIP("192.168.0." + (i % NODES))
                .withPodIP(ip).withPodIPs(new PodIPBuilder().withIp(ip).build()).withStartTime(now)
                .withQosClass("Burstable")
                .withConditions(
                        new PodConditionBuilder().withType("Initialized").withStatus("True").withLastTransitionTime(now).build(),
                        new PodConditionBuilder().withType("Ready").withStatus("True").withLastTransitionTime(now).build(),
                        new PodConditionBuilder().withType("ContainersReady").withStatus("True").withLastTransitionTime(now).build(),
                        new PodConditionBuilder().withType("PodScheduled").withStatus("True").withLastTransitionTime(now).build())
                .withContainerStatuses(IntStream.range(0, 2).mapToObj(c -> new ContainerStatusBuilder()
                        .withName(c == 0 ? "server" : "metrics").withImage("registry.example.com/team/app:1.2." + c)
                        .withImageID("registry.example.com/team/app@sha256:" + "ab".repeat(32))
                        .withContainerID("containerd://" + "cd".repeat(32)).withReady(true).withRestartCount(0)
                        .withStarted(true).withNewState().withNewRunning().withStartedAt(now).endRunning().endState()
                        .build()).toList())
                .build());
        client.pods().inNamespace(ns).resource(applied).updateStatus();
    }

    private static Pod shape(String ns, String name, String node, int i) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("app.kubernetes.io/name", "app");
        labels.put("app.kubernetes.io/instance", "app-" + i % 7);
        labels.put("app.kubernetes.io/component", "server");
        labels.put("app.kubernetes.io/part-of", "platform");
        labels.put("app.kubernetes.io/managed-by", "Helm");
        labels.put("controller-revision-hash", "app-" + Integer.toHexString(i % 97 + 1000));
        labels.put("team", "team-" + i % 13);
        if (i % 2 == 0) {
            labels.put(ItSupport.STATEFUL_LABEL, name);
        } else {
            labels.put("pod-template-hash", Integer.toHexString(i * 31 + 7));
        }
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put("prometheus.io/scrape", "true");
        annotations.put("prometheus.io/port", "9404");
        annotations.put("checksum/config", "0123456789abcdef".repeat(4));
        annotations.put("kubectl.kubernetes.io/restartedAt", "2026-11-01T10:00:00Z");
        annotations.put("cluster-autoscaler.kubernetes.io/safe-to-evict", "false");
        annotations.put("team.example.com/owner", "platform-team@example.com");
        List<EnvVar> env = new ArrayList<>();
        for (int e = 0; e < 12; e++) {
            env.add(new EnvVar("APP_SETTING_" + e, "value-" + e + "-" + "x".repeat(20), null));
        }
        return new PodBuilder()
                .withNewMetadata().withNamespace(ns).withName(name).withLabels(labels).withAnnotations(annotations)
                .endMetadata()
                .withNewSpec().withNodeName(node).withServiceAccountName("default").withTerminationGracePeriodSeconds(30L)
                .withContainers(IntStream.range(0, 2).mapToObj(c -> new ContainerBuilder()
                        .withName(c == 0 ? "server" : "metrics").withImage("registry.example.com/team/app:1.2." + c)
                        .withArgs("--config=/etc/app/config.yaml", "--port=" + (8080 + c))
                        .addNewPort().withName(c == 0 ? "http" : "metrics").withContainerPort(8080 + c).endPort()
                        .withEnv(c == 0 ? env : env.subList(0, 4))
                        .withNewResources().addToRequests("cpu", new Quantity("100m"))
                        .addToRequests("memory", new Quantity("256Mi")).addToLimits("memory", new Quantity("512Mi"))
                        .endResources()
                        .withLivenessProbe(new ProbeBuilder().withNewHttpGet().withPath("/healthz")
                                .withPort(new IntOrString(8080 + c)).endHttpGet().withPeriodSeconds(10).build())
                        .withReadinessProbe(new ProbeBuilder().withNewHttpGet().withPath("/ready")
                                .withPort(new IntOrString(8080 + c)).endHttpGet().withPeriodSeconds(5).build())
                        .withVolumeMounts(new VolumeMountBuilder().withName("config").withMountPath("/etc/app").build(),
                                new VolumeMountBuilder().withName("data").withMountPath("/data").build())
                        .build()).toList())
                .withVolumes(new VolumeBuilder().withName("config").withNewConfigMap().withName("app-config")
                                .endConfigMap().build(),
                        new VolumeBuilder().withName("data").withNewEmptyDir().endEmptyDir().build(),
                        new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build())
                .endSpec().build();
    }

    /** One replica started alone on the cluster as it is now; measured, restarted, stopped. */
    Result measure(double load) throws Exception {
        String opted = namespaces.get(0);
        PromText before = apiServerMetrics();
        CapoProcess capo = cluster.startReplicas(1, Map.of("ipReserveTime", "1h")).get(0);
        long cpu = capo.cpuMillis();
        long ready = capo.readyMillis();
        BenchCluster.sleep(3000);
        PromText afterStart = apiServerMetrics();
        long heap = liveHeap(capo.pid());
        long rss = capo.rssBytes();

        // 50 sequential deletions through the webhook (stateful pods created for this purpose)
        cluster.registerWebhook(opted);
        List<String> victims = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String name = ItSupport.unique("victim");
            ItSupport.statefulPod(client, opted, name, nodes.get(i % NODES), ItSupport.nextIpv4());
            victims.add(name);
        }
        BenchCluster.sleep(1000);
        PromText capoBefore = capo.metrics();
        double[] ms = new double[victims.size()];
        for (int i = 0; i < victims.size(); i++) {
            long t = System.nanoTime();
            client.pods().inNamespace(opted).withName(victims.get(i)).withGracePeriod(0).delete();
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        PromText capoAfter = capo.metrics();
        double count = capoAfter.sum("capo_webhook_duration_seconds_count")
                - capoBefore.sum("capo_webhook_duration_seconds_count");
        double sum = capoAfter.sum("capo_webhook_duration_seconds_sum")
                - capoBefore.sum("capo_webhook_duration_seconds_sum");
        java.util.Arrays.sort(ms);

        cluster.stopReplicas();
        PromText beforeRestart = apiServerMetrics();
        CapoProcess again = cluster.startReplicas(1, Map.of("ipReserveTime", "1h")).get(0);
        long restartReady = again.readyMillis();
        BenchCluster.sleep(1000);
        PromText afterRestart = apiServerMetrics();
        cluster.stopReplicas();

        return new Result(created, createdOptedIn, ready, cpu, heap, rss, listBytes(before, afterStart) / 1048576.0,
                listSeconds(before, afterStart), listRequests(before, afterStart), ms[ms.length / 2],
                ms[ms.length - 1], count == 0 ? Double.NaN : sum / count * 1000, restartReady,
                listBytes(beforeRestart, afterRestart) / 1048576.0, load);
    }

    private PromText apiServerMetrics() {
        return PromText.parse(client.raw("/metrics"));
    }

    private static double listBytes(PromText a, PromText b) {
        return b.sum("apiserver_response_sizes_sum", "verb", "LIST")
                - a.sum("apiserver_response_sizes_sum", "verb", "LIST");
    }

    private static double listSeconds(PromText a, PromText b) {
        return b.sum("apiserver_request_duration_seconds_sum", "verb", "LIST")
                - a.sum("apiserver_request_duration_seconds_sum", "verb", "LIST");
    }

    private static long listRequests(PromText a, PromText b) {
        return Math.round(b.sum("apiserver_request_duration_seconds_count", "verb", "LIST")
                - a.sum("apiserver_request_duration_seconds_count", "verb", "LIST"));
    }

    /** Heap in use right after a full GC (jcmd GC.run, then GC.heap_info). */
    static long liveHeap(long pid) throws IOException, InterruptedException {
        jcmd(pid, "GC.run");
        String info = jcmd(pid, "GC.heap_info");
        long used = 0;
        Matcher m = HEAP_USED.matcher(info);
        while (m.find()) {
            used += Long.parseLong(m.group(1)) * 1024;
        }
        return used;
    }

    private static String jcmd(long pid, String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("jcmd", Long.toString(pid), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }
}
