package io.capo.bench;

import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.api.model.Pod;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * The same burst, but the AdmissionReviews go straight to Capo over HTTPS (HTTP/1.1, one connection per request in
 * flight, as the API server's webhook client opens them), without the API server in between: Capo's own latency
 * and capacity with N calls in flight, apart from what the API server adds on this 2-core machine. The reviews are
 * what the API server sends: DELETE with the pod as oldObject, and CREATE pods/eviction with the Eviction (Capo then
 * reads the pod from its informer cache). The pods are not deleted.
 */
final class DirectBurst {

    record Result(int n, int replicas, double load1, long wallMs, double[] client, double[] capo, int allowed,
                  int denied, int errors, int lost, double writes, double conflicts, double capoCpuMs) {
    }

    private final BenchCluster cluster;
    private final AdmissionBurst pods;
    private final String namespace;

    DirectBurst(BenchCluster cluster, String namespace) {
        this.cluster = cluster;
        this.namespace = namespace;
        this.pods = new AdmissionBurst(cluster, namespace);
    }

    Result run(int n, int port, int objects, double load1) throws Exception {
        Map<String, Pod> created = pods.createPods(n);
        BenchCluster.sleep(2000); // the replicas' informers see the pods (evictions are looked up there)
        List<String> bodies = new ArrayList<>();
        Map<String, String> expected = new LinkedHashMap<>();
        int i = 0;
        for (Pod pod : created.values()) {
            bodies.add(i++ % 2 == 0 ? deleteReview(pod) : evictionReview(pod));
            expected.put(pod.getStatus().getPodIP() + "/32", pod.getMetadata().getUid());
        }
        List<CapoProcess> replicas = cluster.replicas();
        List<PromText> before = replicas.stream().map(CapoProcess::metrics).toList();
        long cpuBefore = replicas.stream().mapToLong(CapoProcess::cpuMillis).sum();

        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(CapoInstance.trusting(cluster.env().certificates().ca())).connectTimeout(Duration.ofSeconds(10))
                .build();
        URI uri = URI.create("https://127.0.0.1:" + port + "/pod-ip-reservation");
        ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
        int[] outcome = new int[3]; // allowed, denied, errors
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        long start = System.nanoTime();
        System.out.println("direct burst of " + n + " starts at " + java.time.Instant.now());
        for (String body : bodies) {
            long t0 = System.nanoTime();
            calls.add(http.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString()).handle((response, error) -> {
                latencies.add(System.nanoTime() - t0);
                synchronized (outcome) {
                    if (error != null || response.statusCode() != 200) {
                        outcome[2]++;
                    } else if (response.body().contains("\"allowed\":true")) {
                        outcome[0]++;
                    } else {
                        outcome[1]++;
                    }
                }
                return null;
            }));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
        long wallMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        BenchCluster.sleep(1000);

        Map<String, String> stored = cluster.storedUids(objects);
        int lost = 0;
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String held = stored.get(e.getKey());
            if (held == null || !held.startsWith(e.getValue())) {
                lost++;
            }
        }
        double writes = 0;
        double conflicts = 0;
        PromText.Histogram h = null;
        double max = 0;
        for (int r = 0; r < replicas.size(); r++) {
            PromText now = replicas.get(r).metrics();
            writes += now.sum("capo_ipreservation_writes_total") - before.get(r).sum("capo_ipreservation_writes_total");
            conflicts += now.sum("capo_ipreservation_conflicts_total")
                    - before.get(r).sum("capo_ipreservation_conflicts_total");
            PromText.Histogram d = now.histogram(AdmissionBurst.CAPO_HISTOGRAM)
                    .minus(before.get(r).histogram(AdmissionBurst.CAPO_HISTOGRAM));
            h = h == null ? d : h.plus(d);
            max = Math.max(max, now.max(AdmissionBurst.CAPO_HISTOGRAM + "_max"));
        }
        long cpu = replicas.stream().mapToLong(CapoProcess::cpuMillis).sum() - cpuBefore;
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        double[] client = {AdmissionBurst.pct(sorted, 50), AdmissionBurst.pct(sorted, 95), AdmissionBurst.pct(sorted, 99),
                sorted.get(sorted.size() - 1) / 1e6};
        double[] capo = {h.quantile(0.5) * 1000, h.quantile(0.95) * 1000, h.quantile(0.99) * 1000, max * 1000};
        return new Result(n, replicas.size(), load1, wallMs, client, capo, outcome[0], outcome[1], outcome[2], lost,
                writes, conflicts, cpu);
    }

    private String deleteReview(Pod pod) {
        String podJson = cluster.client().getKubernetesSerialization().asJson(pod);
        return "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\""
                + UUID.randomUUID() + "\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
                + "\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},\"operation\":\"DELETE\","
                + "\"namespace\":\"" + namespace + "\",\"name\":\"" + pod.getMetadata().getName() + "\","
                + "\"userInfo\":{\"username\":\"kubernetes-admin\"},\"dryRun\":false,\"oldObject\":" + podJson
                + ",\"options\":{\"apiVersion\":\"meta.k8s.io/v1\",\"kind\":\"DeleteOptions\",\"gracePeriodSeconds\":0}}}";
    }

    private String evictionReview(Pod pod) {
        String name = pod.getMetadata().getName();
        return "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\""
                + UUID.randomUUID() + "\",\"kind\":{\"group\":\"policy\",\"version\":\"v1\",\"kind\":\"Eviction\"},"
                + "\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},\"subResource\":\"eviction\","
                + "\"operation\":\"CREATE\",\"namespace\":\"" + namespace + "\",\"name\":\"" + name + "\","
                + "\"userInfo\":{\"username\":\"kubernetes-admin\"},\"dryRun\":false,\"object\":{\"apiVersion\":"
                + "\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\""
                + namespace + "\"},\"deleteOptions\":{\"gracePeriodSeconds\":0}}}}";
    }
}
