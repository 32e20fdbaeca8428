package io.capo.it;

import io.capo.calico.CalicoApi;
import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The seed's scenario on Calico's own IPAM: two Redis clusters (StatefulSet-style sets of 12 pods) on 3 nodes,
 * rebuilt at once, round after round — graceful deletes, force deletes, evictions through the Eviction API, a node
 * deletion with pod GC — in a pool whose /28 blocks make address reuse likely. An IP swap is a pod receiving an
 * address that a pod of another identity held within the hold time (10 min, Capo's TTL here). Without Capo there
 * are swaps (the count is printed); with Capo there are none, and no node comes near Calico's per-node block limit.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CalicoIpamRebuildIT {

    private static final Logger LOG = LoggerFactory.getLogger(CalicoIpamRebuildIT.class);
    private static final Duration HOLD = Duration.ofMinutes(10);
    private static final int REPLICAS = 12;
    /** Calico v3.31's per-node block limit when IPAMConfig maxBlocksPerHost is 0 (libcalico-go ipam.go). */
    private static final long CALICO_BLOCK_LIMIT = 20;

    static ItEnvironment env;
    static KubernetesClient client;
    static CalicoIpam ipam;
    static final List<String> NODES = new ArrayList<>();
    static final List<String> POOLS = new ArrayList<>();
    static final List<String> RESULTS = new ArrayList<>();

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        CalicoIpam.requireBinaries();
        env = new ItEnvironment("calico-rebuild", dir).calicoApiVersion(CalicoApi.CRD_V1);
        client = env.client();
        ipam = CalicoIpam.start(env.k8s(), dir.resolve("cni"));
    }

    @AfterAll
    static void stop() {
        RESULTS.forEach(r -> System.out.println("[calico-ipam mass rebuild] " + r));
        if (env != null) {
            env.close();
            POOLS.forEach(p -> CalicoIpam.deletePool(client, p, NODES));
        }
    }

    @Test
    @Order(1)
    void withoutCapoRebuiltPodsGetAddressesOfOtherWorkloads() throws Exception {
        Outcome outcome = rebuild("plain", "10.212.0.0/24", false);
        assertThat(outcome.swaps).as("without Capo, calico-ipam re-issues addresses across workloads").isNotEmpty();
    }

    @Test
    @Order(2)
    void withCapoNoRebuiltPodGetsAnAddressAnotherWorkloadHeld() throws Exception {
        Outcome outcome = rebuild("capo", "10.211.0.0/24", true);
        assertThat(outcome.swaps).as("IP swaps with Capo").isEmpty();
        assertThat(outcome.blocksPerNode.values()).as("IPAM blocks per node").allMatch(n -> n < CALICO_BLOCK_LIMIT);
    }

    private record Outcome(List<String> swaps, Map<String, Long> blocksPerNode) {
    }

    private Outcome rebuild(String tag, String cidr, boolean withCapo) throws Exception {
        String pool = ItSupport.unique("capo-it-mass-" + tag);
        CalicoIpam.pool(client, pool, cidr, 28);
        POOLS.add(pool);
        String ns = env.namespace("redis-" + tag, withCapo);
        if (withCapo) {
            CapoInstance capo = env.startCapo(b -> b.setting("ipReserveTime", HOLD.toMinutes() + "m"));
            env.registerWebhook(capo, ns);
        }
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            nodes.add(env.node("calico-" + tag + "-" + i));
        }
        NODES.addAll(nodes);
        try (ClusterStandIn cluster = new ClusterStandIn(client, ipam, ns, nodes, List.of(pool), HOLD)) {
            cluster.statefulSet("redis-a", REPLICAS);
            cluster.statefulSet("redis-b", REPLICAS);
            awaitSettled(cluster, Set.of());

            round(cluster, "graceful deletes", name -> client.pods().inNamespace(ns).withName(name).delete());
            round(cluster, "force deletes",
                    name -> client.pods().inNamespace(ns).withName(name).withGracePeriod(0).delete());
            round(cluster, "evictions", name -> assertThat(client.pods().inNamespace(ns).withName(name).evict())
                    .as("eviction of %s", name).isTrue());
            // a node is deleted: pod GC force-deletes its pods (no kubelet left to do it), the rest are deleted
            String doomed = nodes.get(2);
            Set<String> onDoomed = new java.util.HashSet<>();
            for (Pod pod : client.pods().inNamespace(ns).list().getItems()) {
                if (doomed.equals(pod.getSpec().getNodeName())) {
                    onDoomed.add(pod.getMetadata().getName());
                }
            }
            cluster.nodeGone(doomed);
            client.nodes().withName(doomed).delete();
            round(cluster, "node deletion (" + onDoomed.size() + " pods) + graceful deletes", name -> {
                if (onDoomed.contains(name)) {
                    client.pods().inNamespace(ns).withName(name).withGracePeriod(0).delete();
                } else {
                    client.pods().inNamespace(ns).withName(name).delete();
                }
            });
            round(cluster, "graceful deletes", name -> client.pods().inNamespace(ns).withName(name).delete());

            assertThat(cluster.failures()).as("stand-in failures").isEmpty();
            Map<String, Long> blocks = CalicoIpam.blocksPerNode(client);
            blocks.keySet().retainAll(nodes);
            List<String> swaps = cluster.swaps();
            String result = String.format("%s Capo: %d assignments, %d distinct addresses, %d IP swaps "
                            + "(%d between the two clusters), IPAM blocks per node %s (limit %d)",
                    withCapo ? "with" : "without", cluster.assignments(), cluster.distinctAddresses(), swaps.size(),
                    cluster.crossSetSwaps(), blocks, CALICO_BLOCK_LIMIT);
            RESULTS.add(result);
            System.out.println("[calico-ipam mass rebuild] " + result);
            swaps.stream().limit(10).forEach(s -> System.out.println("[calico-ipam mass rebuild]   swap " + s));
            if (withCapo) {
                env.unregisterWebhook();
            }
            return new Outcome(swaps, blocks);
        }
    }

    /** Rebuilds both clusters at once: the operation on every pod, in parallel; waits until all pods are back. */
    private static void round(ClusterStandIn cluster, String what, Consumer<String> operation) {
        Set<String> before = cluster.uids();
        long start = System.nanoTime();
        cluster.podNames().parallelStream().forEach(operation);
        awaitSettled(cluster, before);
        LOG.warn("round '{}' settled in {} ms", what, (System.nanoTime() - start) / 1_000_000);
    }

    private static void awaitSettled(ClusterStandIn cluster, Set<String> before) {
        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(500))
                .failFast("stand-in failure", () -> !cluster.failures().isEmpty())
                .until(() -> cluster.settled(before));
    }
}
