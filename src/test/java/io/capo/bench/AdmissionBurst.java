package io.capo.bench;

import io.capo.it.ItSupport;
import io.fabric8.kubernetes.api.model.DeleteOptionsBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.policy.v1.Eviction;
import io.fabric8.kubernetes.api.model.policy.v1.EvictionBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * N selected pods deleted at once through the API server: every other one with DELETE (grace period 0, as the
 * kubelet's final delete), the others through the Eviction API (grace period 0 in its DeleteOptions). One client
 * thread per deletion, all released together, so that N requests are in flight; the client sends each request once
 * (a refused deletion is counted, not retried).
 */
final class AdmissionBurst {

    static final String CAPO_HISTOGRAM = "capo_webhook_duration_seconds";
    static final String APISERVER_HISTOGRAM = "apiserver_admission_webhook_admission_duration_seconds";
    static final String WEBHOOK = "pod-ip-reservation.capo.io";
    private static final AtomicInteger ROUNDS = new AtomicInteger();

    /** What one burst measured; latencies in ms. */
    record Result(int n, String mode, int replicas, int objects, double load1,
                  long wallMs, double[] client, // p50 p95 p99 max
                  double[] capo,                 // p50 p95 p99 max (Capo's histogram, interpolated; max from _max)
                  double[] apiserverBound,       // p50 p95 p99 upper bucket bounds
                  double apiserverShareUnder100ms,
                  int refused, int capoDenied, int failedOpen, int lost, double reviews,
                  double writesReserved, double writesSettled, double conflicts,
                  long reservedMs, long settledMs,
                  double capoCpuMs, double apiCpuMs, List<String> refusals, Map<String, Double> reviewsBy,
                  List<String> perReplica) {

        double writesPerReservation() {
            int reserved = n - refused - lost;
            return reserved <= 0 ? Double.NaN : writesSettled / reserved;
        }
    }

    private final BenchCluster cluster;
    private final String namespace;

    AdmissionBurst(BenchCluster cluster, String namespace) {
        this.cluster = cluster;
        this.namespace = namespace;
    }

    /** Creates n running selected pods; returns name → pod. */
    Map<String, Pod> createPods(int n) throws Exception {
        int round = ROUNDS.incrementAndGet();
        Config config = new ConfigBuilder(cluster.env().k8s().config()).withMaxConcurrentRequests(100)
                .withMaxConcurrentRequestsPerHost(100).build();
        Map<String, Pod> pods = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try (KubernetesClient setup = new KubernetesClientBuilder().withConfig(config).build()) {
            List<Future<?>> created = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String name = "b" + round + "-" + i;
                String node = "node-" + i % 7;
                created.add(pool.submit(() -> pods.put(name,
                        ItSupport.statefulPod(setup, namespace, name, node, ItSupport.nextIpv4()))));
            }
            for (Future<?> f : created) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        return pods;
    }

    /** floor: no webhook registered; noop: {@link NoopWebhook} registered; capo: Capo's replicas registered. */
    enum Mode { FLOOR, NOOP, CAPO }

    Result run(int n, Mode mode, int objects, double load1) throws Exception {
        boolean webhook = mode == Mode.CAPO;
        boolean anyWebhook = mode != Mode.FLOOR;
        Map<String, Pod> pods = createPods(n);
        List<CapoProcess> replicas = cluster.replicas();
        List<PromText> capoBefore = webhook ? replicas.stream().map(CapoProcess::metrics).toList() : List.of();
        PromText apiBefore = PromText.parse(cluster.client().raw("/metrics"));
        long capoCpuBefore = replicas.stream().mapToLong(CapoProcess::cpuMillis).sum();
        Map<String, Long> threadsBefore = !webhook || replicas.isEmpty() ? Map.of() : replicas.get(0).cpuByThread();
        long apiCpuBefore = ApiServerProcesses.cpuMillis();

        Config config = new ConfigBuilder(cluster.env().k8s().config()).withRequestRetryBackoffLimit(0)
                .withMaxConcurrentRequests(n + 10).withMaxConcurrentRequestsPerHost(n + 10)
                .withRequestTimeout(60_000).build();
        ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> refusals = new ConcurrentLinkedQueue<>();
        Map<String, Boolean> deleted = new ConcurrentHashMap<>();
        long burstStart;
        long wallMs;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try (KubernetesClient burst = new KubernetesClientBuilder().withConfig(config).build()) {
            burst.getKubernetesVersion(); // connection and TLS set up before the clock starts
            CountDownLatch ready = new CountDownLatch(n);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> ops = new ArrayList<>();
            int i = 0;
            for (Pod pod : pods.values()) {
                boolean evict = i++ % 2 == 1;
                String name = pod.getMetadata().getName();
                ops.add(pool.submit(() -> {
                    ready.countDown();
                    go.await();
                    long start = System.nanoTime();
                    try {
                        if (evict) {
                            Eviction eviction = new EvictionBuilder().withNewMetadata().withName(name)
                                    .withNamespace(namespace).endMetadata()
                                    .withDeleteOptions(new DeleteOptionsBuilder().withGracePeriodSeconds(0L).build())
                                    .build();
                            if (burst.pods().inNamespace(namespace).withName(name).evict(eviction)) {
                                deleted.put(name, true);
                            } else {
                                refusals.add(name + " (eviction): 429");
                            }
                        } else {
                            burst.pods().inNamespace(namespace).withName(name).withGracePeriod(0).delete();
                            deleted.put(name, true);
                        }
                    } catch (KubernetesClientException e) {
                        refusals.add(name + (evict ? " (eviction): " : " (delete): ") + e.getCode() + " "
                                + e.getMessage());
                    }
                    latencies.add(System.nanoTime() - start);
                    return null;
                }));
            }
            ready.await(2, TimeUnit.MINUTES);
            burstStart = System.nanoTime();
            go.countDown();
            for (Future<?> f : ops) {
                f.get(5, TimeUnit.MINUTES);
            }
            wallMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - burstStart);
        } finally {
            pool.shutdownNow();
        }

        // what Capo must hold now: every pod that is gone, with its UID; then, once the informers saw them go, goneAt
        Map<String, String> expected = new LinkedHashMap<>();
        pods.forEach((name, pod) -> {
            if (deleted.containsKey(name)) {
                expected.put(pod.getStatus().getPodIP() + "/32", pod.getMetadata().getUid());
            }
        });
        long reservedMs = -1;
        long settledMs = -1;
        int lost = 0;
        double writesReserved = 0;
        double writesSettled = 0;
        double conflicts = 0;
        if (webhook) {
            reservedMs = waitFor(expected, objects, false, burstStart, 60_000);
            writesReserved = delta(replicas, capoBefore, "capo_ipreservation_writes_total");
            settledMs = waitFor(expected, objects, true, burstStart, 60_000);
            // the replicas' backstops may still be writing goneAt: let the writes counter settle
            BenchCluster.sleep(1500);
            writesSettled = delta(replicas, capoBefore, "capo_ipreservation_writes_total");
            conflicts = delta(replicas, capoBefore, "capo_ipreservation_conflicts_total");
            Map<String, String> stored = cluster.storedUids(objects);
            long[] size = cluster.objectBytes(objects);
            System.out.printf("IPReservation after the burst (N=%d): %d bytes as served for %d addresses (%.1f per "
                    + "address, managedFields included)%n", n, size[0], size[1], size[1] == 0 ? 0.0
                    : (double) size[0] / size[1]);
            for (Map.Entry<String, String> e : expected.entrySet()) {
                String held = stored.get(e.getKey());
                if (held == null || !held.startsWith(e.getValue())) {
                    lost++;
                }
            }
        }
        long capoCpu = replicas.stream().mapToLong(CapoProcess::cpuMillis).sum() - capoCpuBefore;
        if (webhook && !replicas.isEmpty()) {
            Map<String, Long> threadsAfter = replicas.get(0).cpuByThread();
            Map<String, Long> delta = new java.util.TreeMap<>();
            threadsAfter.forEach((k, v) -> {
                long d = v - threadsBefore.getOrDefault(k, 0L);
                if (d >= 100) {
                    delta.put(k, d);
                }
            });
            System.out.println("CPU ms by thread of " + replicas.get(0).identity() + " during the burst (N=" + n + "): "
                    + delta);
        }
        long apiCpu = ApiServerProcesses.cpuMillis() - apiCpuBefore;

        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        double[] client = {pct(sorted, 50), pct(sorted, 95), pct(sorted, 99), sorted.get(sorted.size() - 1) / 1e6};
        double[] capo = {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
        double[] apiBound = {Double.NaN, Double.NaN, Double.NaN};
        double share = Double.NaN;
        int denied = 0;
        int failedOpen = 0;
        double reviews = 0;
        Map<String, Double> reviewsBy = new java.util.TreeMap<>();
        List<String> perReplica = new ArrayList<>();
        if (webhook) {
            PromText.Histogram h = null;
            double max = 0;
            for (int r = 0; r < replicas.size(); r++) {
                PromText now = replicas.get(r).metrics();
                PromText.Histogram d = now.histogram(CAPO_HISTOGRAM).minus(capoBefore.get(r).histogram(CAPO_HISTOGRAM));
                h = h == null ? d : h.plus(d);
                max = Math.max(max, now.max(CAPO_HISTOGRAM + "_max"));
                denied += (int) (now.sum("capo_webhook_requests_total", "result", "denied")
                        - capoBefore.get(r).sum("capo_webhook_requests_total", "result", "denied"));
                failedOpen += (int) (now.sum("capo_webhook_requests_total", "result", "failed-open")
                        - capoBefore.get(r).sum("capo_webhook_requests_total", "result", "failed-open"));
                reviews += now.sum("capo_webhook_requests_total")
                        - capoBefore.get(r).sum("capo_webhook_requests_total");
                PromText was = capoBefore.get(r);
                perReplica.add(String.format(java.util.Locale.ROOT, "%s: reviews %.0f, writes %.0f, conflicts %.0f, "
                                + "denied %.0f", replicas.get(r).identity(),
                        now.sum("capo_webhook_requests_total") - was.sum("capo_webhook_requests_total"),
                        now.sum("capo_ipreservation_writes_total") - was.sum("capo_ipreservation_writes_total"),
                        now.sum("capo_ipreservation_conflicts_total") - was.sum("capo_ipreservation_conflicts_total"),
                        now.sum("capo_webhook_requests_total", "result", "denied")
                                - was.sum("capo_webhook_requests_total", "result", "denied")));
                Map<String, Double> before = capoBefore.get(r).byLabels("capo_webhook_requests_total", "operation",
                        "result");
                now.byLabels("capo_webhook_requests_total", "operation", "result").forEach((k, v) -> {
                    double change = v - before.getOrDefault(k, 0.0);
                    if (change > 0) {
                        reviewsBy.merge(k, change, Double::sum);
                    }
                });
            }
            capo = new double[]{h.quantile(0.50) * 1000, h.quantile(0.95) * 1000, h.quantile(0.99) * 1000, max * 1000};
        }
        if (anyWebhook) {
            PromText apiAfter = PromText.parse(cluster.client().raw("/metrics"));
            PromText.Histogram a = apiAfter.histogram(APISERVER_HISTOGRAM, "name", WEBHOOK)
                    .minus(apiBefore.histogram(APISERVER_HISTOGRAM, "name", WEBHOOK));
            apiBound = new double[]{a.upperBound(0.50) * 1000, a.upperBound(0.95) * 1000, a.upperBound(0.99) * 1000};
            share = a.shareAtMost(0.1);
            Map<String, Double> callsBefore = apiBefore.byLabels("apiserver_admission_webhook_request_total", "operation",
                    "code");
            apiAfter.byLabels("apiserver_admission_webhook_request_total", "operation", "code").forEach((k, v) -> {
                double change = v - callsBefore.getOrDefault(k, 0.0);
                if (change > 0) {
                    reviewsBy.merge("apiserver:" + k, change, Double::sum);
                }
            });
        }
        // by kind: Capo's denial, the API server giving up on the webhook, anything else (first words of the message)
        Map<String, Long> kinds = new java.util.TreeMap<>();
        for (String refusal : refusals) {
            String kind = refusal.contains("capo could not park") || refusal.endsWith(": 429") ? "denied by Capo (429)"
                    : refusal.contains("deadline") || refusal.contains("imeout") ? "webhook call timed out"
                    : refusal.replaceAll("^[^:]*: ", "").replaceAll("\\s+", " ");
            kinds.merge(kind.length() > 120 ? kind.substring(0, 120) : kind, 1L, Long::sum);
        }
        List<String> someRefusals = new ArrayList<>();
        kinds.forEach((kind, count) -> someRefusals.add(count + " × " + kind));
        return new Result(n, mode.name().toLowerCase(java.util.Locale.ROOT), webhook ? replicas.size() : 0, objects, load1, wallMs, client, capo,
                apiBound, share, refusals.size(), denied, failedOpen, lost, reviews, writesReserved, writesSettled,
                conflicts, reservedMs, settledMs, capoCpu, apiCpu, someRefusals, reviewsBy, perReplica);
    }

    /** Milliseconds from the burst's start until every expected entry is stored (and gone, if asked); -1 if never. */
    private long waitFor(Map<String, String> expected, int objects, boolean gone, long since, long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            Map<String, String> stored = cluster.storedUids(objects);
            boolean all = expected.entrySet().stream().allMatch(e -> {
                String held = stored.get(e.getKey());
                return held != null && held.startsWith(e.getValue()) && (!gone || held.endsWith("|gone"));
            });
            if (all) {
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
            }
            BenchCluster.sleep(100);
        }
        return -1;
    }

    private static double delta(List<CapoProcess> replicas, List<PromText> before, String metric) {
        double sum = 0;
        for (int r = 0; r < replicas.size(); r++) {
            sum += replicas.get(r).metrics().sum(metric) - before.get(r).sum(metric);
        }
        return sum;
    }

    static double pct(List<Long> sortedNanos, int p) {
        int index = (int) Math.ceil(p / 100.0 * sortedNanos.size()) - 1;
        return sortedNanos.get(Math.max(0, index)) / 1e6;
    }
}
