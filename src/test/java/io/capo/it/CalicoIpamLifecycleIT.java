package io.capo.it;

import io.capo.calico.CalicoApi;
import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Calico's own IPAM ({@code calico-ipam} {@value CalicoIpam#VERSION}, Kubernetes datastore, Calico's real
 * crd.projectcalico.org/v1 CRDs) against what Capo parks: an address Capo reserved is skipped while its block fills
 * (Calico claims a new block), and is assigned again after Capo's TTL release; without Capo, calico-ipam re-issues
 * it. Dual-stack: IPv4 /28 and IPv6 /124 blocks, so that a block fills after 16 assignments.
 */
class CalicoIpamLifecycleIT {

    private static final String V4_POOL = "capo-it-life-v4";
    private static final String V6_POOL = "capo-it-life-v6";
    private static final int BLOCK = 16;

    static ItEnvironment env;
    static KubernetesClient client;
    static CalicoIpam ipam;
    static final List<String> NODES = new ArrayList<>();

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        CalicoIpam.requireBinaries();
        env = new ItEnvironment("calico-life", dir).calicoApiVersion(CalicoApi.CRD_V1);
        client = env.client();
        ipam = CalicoIpam.start(env.k8s(), dir.resolve("cni"));
        CalicoIpam.pool(client, V4_POOL, "10.210.0.0/24", 28);
        CalicoIpam.pool(client, V6_POOL, "fd00:210::/120", 124);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
            CalicoIpam.deletePool(client, V4_POOL, NODES);
            CalicoIpam.deletePool(client, V6_POOL, NODES);
        }
    }

    private static String node(String prefix) {
        String node = env.node(prefix);
        NODES.add(node);
        return node;
    }

    private static List<String> add(String node, String ns, String pod) {
        return ipam.add(sandbox(node, ns, pod), List.of(V4_POOL), List.of(V6_POOL));
    }

    private static CalicoIpam.Sandbox sandbox(String node, String ns, String pod) {
        return new CalicoIpam.Sandbox(node, ns, pod, "c" + Integer.toHexString((ns + "/" + pod).hashCode()));
    }

    @Test
    void addressParkedByCapoIsSkippedWhileItsBlockFillsAndAssignedAgainAfterItsRelease() throws Exception {
        String node = node("calico-capo");
        String ns = env.namespace("redis", true);
        CapoInstance capo = env.startCapo(b -> b.setting("ipReserveTime", "1h"));
        env.registerWebhook(capo, ns);

        List<String> x = add(node, ns, "redis-0");
        ItSupport.statefulPod(client, ns, "redis-0", node, x.toArray(String[]::new));
        client.pods().inNamespace(ns).withName("redis-0").delete();   // graceful: the webhook parks X
        client.pods().inNamespace(ns).withName("redis-0").withGracePeriod(0).delete();   // the kubelet's final delete
        ipam.del(sandbox(node, ns, "redis-0"), List.of(V4_POOL), List.of(V6_POOL));
        List<String> parked = List.of(x.get(0) + "/32", x.get(1) + "/128");
        await().atMost(Duration.ofSeconds(20)).until(() -> env.reservations().cidrs().containsAll(parked));

        // the block had 16 addresses, X among them: 15 fill it, the 16th comes from a block Calico claims
        List<List<String>> filled = new ArrayList<>();
        for (int i = 1; i <= BLOCK; i++) {
            filled.add(add(node, ns, "filler-" + i));
        }
        assertThat(filled).as("X never re-issued while parked").noneMatch(ips -> ips.contains(x.get(0))
                || ips.contains(x.get(1)));
        assertThat(filled.subList(0, BLOCK - 1)).as("the first 15 fill X's block")
                .allMatch(ips -> sameBlock(ips.get(0), x.get(0), 28) && sameBlock(ips.get(1), x.get(1), 124));
        assertThat(filled.get(BLOCK - 1)).as("the 16th comes from a new block")
                .noneMatch(ip -> sameBlock(ip, x.get(0), 28) || sameBlock(ip, x.get(1), 124));
        assertThat(CalicoIpam.blocksPerNode(client).get(node)).as("blocks of %s (IPv4 + IPv6)", node).isEqualTo(4L);
        assertThat(env.reservations().cidrs()).as("still parked after the fill").containsAll(parked);

        // a Capo with a short TTL releases X (the TTL counts from when the pod was gone)
        env.stopCapo(capo);
        CapoInstance shortTtl = env.startCapo(b -> b.setting("ipReserveTime", "2s").setting("ipReleasePeriod", "1s"));
        await().atMost(Duration.ofSeconds(60)).until(() -> env.reservations().cidrs().stream()
                .noneMatch(parked::contains));
        env.stopCapo(shortTtl);   // the other tests park for longer

        // X is the only free address of its block; the node's new block has 15 (Calico may try either first):
        // X comes back before the node's blocks run out
        List<String> after = new ArrayList<>();
        for (int i = 1; i <= BLOCK && !after.containsAll(x); i++) {
            after.addAll(add(node, ns, "after-release-" + i));
        }
        assertThat(after).as("assigned after the release").containsAll(x);
    }

    @Test
    void withoutCapoCalicoReissuesTheAddressOfADeletedPodOnceItsBlockIsFull() {
        String node = node("calico-plain");
        String ns = env.namespace("plain", false);
        List<String> x = add(node, ns, "redis-0");
        ItSupport.statefulPod(client, ns, "redis-0", node, x.toArray(String[]::new));
        client.pods().inNamespace(ns).withName("redis-0").withGracePeriod(0).delete();
        ipam.del(sandbox(node, ns, "redis-0"), List.of(V4_POOL), List.of(V6_POOL));

        List<List<String>> assigned = new ArrayList<>();
        for (int i = 1; i <= BLOCK; i++) {
            assigned.add(add(node, ns, "other-" + i));
        }
        // Calico appends a released ordinal to the end of its block's free list: X comes back with the 16th pod
        assertThat(assigned.subList(0, BLOCK - 1)).noneMatch(ips -> ips.contains(x.get(0)));
        assertThat(assigned.get(BLOCK - 1)).as("another pod gets X").containsExactlyElementsOf(x);
    }

    @Test
    void addressesParkedOnOneNodeCountAgainstCalicosLimitOfTwentyBlocksPerNode() throws Exception {
        String tiny = "capo-it-life-tiny";
        CalicoIpam.pool(client, tiny, "10.213.0.0/24", 31);   // 2 addresses per block: 40 per node at 20 blocks
        String node = node("calico-full");
        String ns = env.namespace("redis-full", true);
        CapoInstance capo = env.startCapo(b -> b.setting("ipReserveTime", "1h"));
        try {
            env.registerWebhook(capo, ns);
            List<String> parked = new ArrayList<>();
            for (int i = 0; i < 30; i++) {   // 30 pods come and go on the node: Capo parks all 30 addresses
                String pod = "redis-" + i;
                String ip = ipam.add(sandbox(node, ns, pod), List.of(tiny), List.of()).get(0);
                ItSupport.statefulPod(client, ns, pod, node, ip);
                client.pods().inNamespace(ns).withName(pod).withGracePeriod(0).delete();
                ipam.del(sandbox(node, ns, pod), List.of(tiny), List.of());
                parked.add(ip + "/32");
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> env.reservations().cidrs().containsAll(parked));

            List<String> live = new ArrayList<>();
            IllegalStateException refused = null;
            for (int i = 0; i < 12 && refused == null; i++) {
                try {
                    live.add(ipam.add(sandbox(node, ns, "live-" + i), List.of(tiny), List.of()).get(0));
                } catch (IllegalStateException e) {
                    refused = e;
                }
            }
            // 15 blocks hold the parked addresses, 5 more the 10 live pods: the 11th pod finds no address
            assertThat(live).hasSize(10).noneMatch(ip -> parked.contains(ip + "/32"));
            assertThat(refused).as("calico-ipam ADD on a node at its block limit").isNotNull()
                    .hasMessageContaining("per host block limit");
            assertThat(CalicoIpam.blocksPerNode(client).get(node)).isEqualTo(20L);
        } finally {
            env.stopCapo(capo);
            CalicoIpam.deletePool(client, tiny, List.of(node));
        }
    }

    /** Whether two addresses are in the same block of the prefix length. */
    static boolean sameBlock(String a, String b, int prefix) {
        try {
            byte[] x = InetAddress.getByName(a).getAddress();
            byte[] y = InetAddress.getByName(b).getAddress();
            if (x.length != y.length) {
                return false;
            }
            int shift = x.length * 8 - prefix;
            return new BigInteger(1, x).shiftRight(shift).equals(new BigInteger(1, y).shiftRight(shift));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
