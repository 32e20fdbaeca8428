package io.capo.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.capo.it.CalicoIpam;
import io.capo.it.ItSupport;
import io.capo.calico.CalicoApi;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Calico's own cost of what Capo parks: calico-ipam ({@value CalicoIpam#VERSION}) lists every IPReservation, whole
 * objects, on every automatic assignment. For a number of addresses parked by a real Capo replica (pods deleted
 * through the webhook, Capo writing crd.projectcalico.org/v1 with its default object count for that many), the
 * latency of calico-ipam ADD as a CNI runtime runs it (one process per call) and the bytes of the IPReservation LIST
 * Calico reads for each assignment.
 */
final class CalicoIpamBench {

    static final String POOL = "capo-bench-calico";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The addresses the benchmark's pods report (ItSupport.nextIpv4) are in this pool: Capo parks pool addresses. */
    static final String POOL_CIDR = "10.100.0.0/16";

    record Result(int parked, int objects, int storedCidrs, long listBytes, int listPages, double[] addMs,
                  double load1) {
    }

    private final BenchCluster cluster;
    private final CalicoIpam ipam;
    private final String node;

    CalicoIpamBench(BenchCluster cluster, Path workDir) throws Exception {
        this.cluster = cluster;
        this.ipam = CalicoIpam.start(cluster.env().k8s(), workDir.resolve("cni"));
        CalicoIpam.pool(cluster.client(), POOL, POOL_CIDR, 26);
        this.node = cluster.env().node("bench-calico-node");
    }

    /** Whether calico-ipam is provisioned (scripts/provision-calico-ipam.sh). */
    static boolean available() {
        return Files.isExecutable(CalicoIpam.home().resolve("calico-ipam"));
    }

    /** Parks {@code parked} addresses with one fresh Capo replica, then times {@code assigns} ADDs. */
    Result run(int parked, int assigns, double load1) throws Exception {
        int objects = BenchMain.objectsFor(Math.max(parked, 1));
        deleteObjects();
        cluster.startReplicas(1, Map.of("calicoApiVersion", CalicoApi.CRD_V1, "ipReserveTime", "1h",
                "ipReserveMaxCount", "10000", "reservationObjects", Integer.toString(objects)));
        try {
            if (parked > 0) {
                park(parked);
            }
            int stored = storedCidrs();
            String list = cluster.client().raw("/apis/crd.projectcalico.org/v1/ipreservations?limit=500");
            long bytes = list.getBytes(StandardCharsets.UTF_8).length;
            String next = JSON.readTree(list).path("metadata").path("continue").asText("");
            int pages = next.isEmpty() ? 1 : 2;   // 2: more than one page (Capo keeps to at most 16 objects)

            List<CalicoIpam.Sandbox> sandboxes = new ArrayList<>();
            double[] ms = new double[assigns];
            for (int i = -3; i < assigns; i++) {   // 3 unreported: the process and the API server warm up
                CalicoIpam.Sandbox sandbox = new CalicoIpam.Sandbox(node, "default", "bench-" + parked + "-" + i,
                        "cbench" + parked + "x" + (i + 3));
                long start = System.nanoTime();
                ipam.add(sandbox, List.of(POOL), List.of());
                if (i >= 0) {
                    ms[i] = (System.nanoTime() - start) / 1e6;
                }
                sandboxes.add(sandbox);
            }
            for (CalicoIpam.Sandbox sandbox : sandboxes) {
                ipam.del(sandbox, List.of(POOL), List.of());
            }
            Arrays.sort(ms);
            return new Result(parked, objects, stored, bytes, pages,
                    new double[]{ms[ms.length / 2], ms[(int) Math.ceil(ms.length * 0.95) - 1]}, load1);
        } finally {
            cluster.stopReplicas();
        }
    }

    /** Deletes n selected running pods through the webhook (32 at a time) and waits until Capo stored them all. */
    private void park(int n) throws Exception {
        String ns = cluster.env().namespace("calico-park", true);
        cluster.registerWebhook(ns);
        Map<String, Pod> pods = new AdmissionBurst(cluster, ns).createPods(n);
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            List<Future<?>> deletes = new ArrayList<>();
            KubernetesClient client = cluster.client();
            for (String name : pods.keySet()) {
                deletes.add(pool.submit(() -> client.pods().inNamespace(ns).withName(name).withGracePeriod(0)
                        .delete()));
            }
            for (Future<?> f : deletes) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (storedCidrs() < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Capo stored " + storedCidrs() + " of " + n + " parked addresses");
            }
            BenchCluster.sleep(500);
        }
        cluster.unregisterWebhook();
    }

    private int storedCidrs() {
        int n = 0;
        for (String name : cluster.objectNames(16)) {
            n += ItSupport.read(cluster.client(), CalicoApi.CRD_V1, name).cidrs().size();
        }
        return n;
    }

    private void deleteObjects() {
        for (String name : cluster.objectNames(16)) {
            cluster.client().genericKubernetesResources(new CalicoApi(CalicoApi.CRD_V1).context()).withName(name)
                    .delete();
        }
    }

    void close() {
        deleteObjects();
        CalicoIpam.deletePool(cluster.client(), POOL, List.of(node));
    }
}
