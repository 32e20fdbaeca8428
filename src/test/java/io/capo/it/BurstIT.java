package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.capo.it.ItSupport.metric;
import static io.capo.it.ItSupport.nextIpv4;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * 500 selected pods deleted at once through the API server (50 client threads), the webhook calls spread over three
 * replicas by a TCP balancer as a Service would: every address is parked exactly once and no deletion is refused
 * (group commit per replica; a conflict between replicas costs a re-read, never a refusal). Prints the deletion
 * latency percentiles as seen by the clients; they are figures, not assertions.
 */
class BurstIT {

    private static final int PODS = 500;
    private static final int THREADS = 50;

    static ItEnvironment env;
    static KubernetesClient client;
    static KubernetesClient burstClient;
    static KubernetesClient setupClient;
    static List<CapoInstance> replicas = new ArrayList<>();
    static TcpProxy balancer;
    static String ns;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        env = new ItEnvironment("burst", dir);
        client = env.client();
        ns = env.namespace("burst", true);
        for (int i = 0; i < 3; i++) {
            replicas.add(env.startCapo(b -> b.setting("ipReserveTime", "1h").setting("ipReserveMaxCount", "1000")));
        }
        balancer = new TcpProxy(replicas.stream()
                .map(c -> new java.net.InetSocketAddress("127.0.0.1", c.webhookPort())).toList());
        env.registerWebhook(balancer.port(), replicas, ns);
        // one request per call (a refused deletion must not be retried quietly), enough connections for 50 threads
        Config config = new ConfigBuilder(env.k8s().config()).withRequestRetryBackoffLimit(0)
                .withMaxConcurrentRequests(200).withMaxConcurrentRequestsPerHost(200).build();
        burstClient = new KubernetesClientBuilder().withConfig(config).build();
        setupClient = new KubernetesClientBuilder().withConfig(new ConfigBuilder(env.k8s().config())
                .withMaxConcurrentRequests(200).withMaxConcurrentRequestsPerHost(200).build()).build();
    }

    @AfterAll
    static void stop() {
        if (burstClient != null) {
            burstClient.close();
            setupClient.close();
        }
        if (env != null) {
            env.close();
        }
        if (balancer != null) {
            balancer.close();
        }
    }

    static double sum(String metric, String... labels) {
        return replicas.stream().mapToDouble(c -> metric(c, metric, labels)).sum();
    }

    @Test
    void fiveHundredConcurrentDeletionsAreAllParkedExactlyOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            Map<String, Pod> pods = new ConcurrentHashMap<>();
            List<Future<?>> created = new ArrayList<>();
            for (int i = 0; i < PODS; i++) {
                String name = "member-" + i;
                String ip = nextIpv4();
                String node = "node-" + i % 7;
                created.add(pool.submit(() -> pods.put(ip + "/32",
                        ItSupport.statefulPod(setupClient, ns, name, node, ip))));
            }
            for (Future<?> f : created) {
                f.get(2, TimeUnit.MINUTES);
            }
            assertThat(pods).hasSize(PODS);
            double writesBefore = sum("capo_ipreservation_writes_total");
            double conflictsBefore = sum("capo_ipreservation_conflicts_total");

            ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<String> refused = new ConcurrentLinkedQueue<>();
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> deleted = new ArrayList<>();
            long burstStart = System.nanoTime();
            for (Pod pod : pods.values()) {
                deleted.add(pool.submit(() -> {
                    go.await();
                    long start = System.nanoTime();
                    try {
                        burstClient.pods().inNamespace(ns).withName(pod.getMetadata().getName())
                                .withGracePeriod(0).delete();
                    } catch (RuntimeException e) {
                        refused.add(pod.getMetadata().getName() + ": " + e.getMessage());
                    }
                    latencies.add(System.nanoTime() - start);
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : deleted) {
                f.get(5, TimeUnit.MINUTES);
            }
            long burstMs = (System.nanoTime() - burstStart) / 1_000_000;

            List<Long> sorted = new ArrayList<>(latencies);
            Collections.sort(sorted);
            String perReplica = replicas.stream().map(c -> String.format("reviews=%.0f writes=%.0f conflicts=%.0f "
                            + "denied=%.0f", metric(c, "capo_webhook_requests_total"),
                    metric(c, "capo_ipreservation_writes_total"), metric(c, "capo_ipreservation_conflicts_total"),
                    metric(c, "capo_webhook_requests_total", "result=\"denied\""))).toList().toString();
            System.out.printf("burst of %d deletions (%d threads, %d replicas) in %d ms; latency p50=%d ms p95=%d ms "
                            + "p99=%d ms max=%d ms; IPReservation writes=%.0f conflicts=%.0f; per replica %s%n",
                    PODS, THREADS, replicas.size(), burstMs,
                    percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99),
                    sorted.get(sorted.size() - 1) / 1_000_000,
                    sum("capo_ipreservation_writes_total") - writesBefore,
                    sum("capo_ipreservation_conflicts_total") - conflictsBefore, perReplica);
            assertThat(refused).as("deletions refused").isEmpty();

            await().atMost(Duration.ofSeconds(60)).until(() -> pods.keySet().stream()
                    .allMatch(env.reservations()::gone));
            ItSupport.StoredReservations stored = env.reservations();
            assertThat(stored.cidrs()).doesNotHaveDuplicates().containsAll(pods.keySet());
            assertThat(stored.entries()).hasSize(PODS);
            pods.forEach((cidr, pod) -> {
                JsonNode entry = stored.entry(cidr);
                assertThat(entry.path("uid").asText()).isEqualTo(pod.getMetadata().getUid());
                assertThat(entry.path("reason").asText()).isEqualTo("delete");
            });
            assertThat(sum("capo_reservations_total")).as("parked once, by one replica each").isEqualTo(PODS);
            assertThat(burstClient.pods().inNamespace(ns).list().getItems().stream()
                    .filter(p -> p.getMetadata().getName().startsWith("member-"))).isEmpty();
        } finally {
            pool.shutdownNow();
        }
    }

    static long percentile(List<Long> sortedNanos, int p) {
        int index = (int) Math.ceil(p / 100.0 * sortedNanos.size()) - 1;
        return sortedNanos.get(Math.max(0, index)) / 1_000_000;
    }
}
