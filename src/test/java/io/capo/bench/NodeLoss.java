package io.capo.bench;

import io.capo.it.ItSupport;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A node with 110 selected pods (the kubelet's default maximum) is deleted: the time until every one of their
 * addresses is parked, read from the API server every 20 ms. There is no pod garbage collector here, so the pods stay;
 * in a cluster it would force-delete them (and the webhook would see those deletions too).
 */
final class NodeLoss {

    record Result(int pods, int replicas, double load1, long allReservedMs, long firstReservedMs, double writes,
                  double conflicts, int missing) {
    }

    private final BenchCluster cluster;

    NodeLoss(BenchCluster cluster) {
        this.cluster = cluster;
    }

    Result run(String namespace, int podCount, int objects, double load1) throws Exception {
        String node = cluster.env().node("lost");
        Map<String, String> expected = new ConcurrentHashMap<>(); // cidr -> uid
        Config config = new ConfigBuilder(cluster.env().k8s().config()).withMaxConcurrentRequests(50)
                .withMaxConcurrentRequestsPerHost(50).build();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try (KubernetesClient setup = new KubernetesClientBuilder().withConfig(config).build()) {
            List<Future<?>> created = new ArrayList<>();
            for (int i = 0; i < podCount; i++) {
                String name = "on-" + node + "-" + i;
                created.add(pool.submit(() -> {
                    Pod pod = ItSupport.statefulPod(setup, namespace, name, node, ItSupport.nextIpv4());
                    expected.put(pod.getStatus().getPodIP() + "/32", pod.getMetadata().getUid());
                }));
            }
            for (Future<?> f : created) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        // the replicas' informers must have the pods with their IPs before the node goes
        BenchCluster.sleep(3000);
        List<PromText> before = cluster.replicas().stream().map(CapoProcess::metrics).toList();

        long start = System.nanoTime();
        cluster.client().nodes().withName(node).delete();
        long first = -1;
        long all = -1;
        int missing = podCount;
        long deadline = start + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Map<String, String> stored = cluster.storedUids(objects);
            long now = System.nanoTime();
            missing = (int) expected.entrySet().stream().filter(e -> {
                String held = stored.get(e.getKey());
                return held == null || !held.startsWith(e.getValue());
            }).count();
            if (first < 0 && missing < podCount) {
                first = TimeUnit.NANOSECONDS.toMillis(now - start);
            }
            if (missing == 0) {
                all = TimeUnit.NANOSECONDS.toMillis(now - start);
                break;
            }
            BenchCluster.sleep(20);
        }
        BenchCluster.sleep(1000);
        double writes = 0;
        double conflicts = 0;
        for (int r = 0; r < before.size(); r++) {
            PromText now = cluster.replicas().get(r).metrics();
            writes += now.sum("capo_ipreservation_writes_total") - before.get(r).sum("capo_ipreservation_writes_total");
            conflicts += now.sum("capo_ipreservation_conflicts_total")
                    - before.get(r).sum("capo_ipreservation_conflicts_total");
        }
        return new Result(podCount, cluster.replicas().size(), load1, all, first, writes, conflicts, missing);
    }
}
