package io.capo.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Capo's benchmarks on the integration tests' real kube-apiserver + etcd; run by {@code scripts/bench}, which
 * builds {@code capo.jar} and passes its path. Prints figures; nothing passes or fails on time.
 *
 * <pre>
 *   scripts/bench                                  everything (about 25 minutes on 2 cores)
 *   scripts/bench --scenarios=burst --sizes=500    one scenario, one size
 * </pre>
 *
 * Options: {@code --scenarios=startup,scale,burst,nodeloss,calico,release,limits}, {@code --sizes=100,500,2000},
 * {@code --pods=0,1000,10000,30000} (scale: cluster sizes), {@code --create-threads=12},
 * {@code --parked=0,300,900,2000} and {@code --assigns=50} (calico: addresses parked by Capo, calico-ipam ADDs timed),
 * {@code --replicas=3}, {@code --warmup-burst=500} (an unreported burst right after the replicas start; 0: none),
 * {@code --warmup-cycles=60}, {@code --cycles=20}, {@code --release=300x1,2000x3,10000x12,10000x16} (held x objects), {@code --wait-load=60} (seconds to wait for a 1-minute load below 1
 * before each scenario), {@code --jar=target/bench-build/capo.jar}, {@code --out=<dir>}.
 */
public final class BenchMain {

    private final Map<String, String> options;
    private final List<String> report = new ArrayList<>();

    private BenchMain(Map<String, String> options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        for (String arg : args) {
            if (!arg.startsWith("--") || !arg.contains("=")) {
                System.err.println("usage: BenchMain [--scenarios=startup,scale,burst,direct,nodeloss,calico,release,limits] [--sizes=100,500,2000] "
                        + "[--replicas=3] [--cycles=20] [--wait-load=60] [--jar=path] [--out=dir]");
                System.exit(2);
            }
            options.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        int code = new BenchMain(options).run();
        System.exit(code);
    }

    private String option(String key, String fallback) {
        return options.getOrDefault(key, fallback);
    }

    private int run() throws Exception {
        Set<String> scenarios = new LinkedHashSet<>(Arrays.asList(option("scenarios", "startup,burst,direct,nodeloss,calico,release,limits")
                .split(",")));
        List<Integer> sizes = Arrays.stream(option("sizes", "100,500,2000").split(",")).map(String::trim)
                .map(Integer::parseInt).toList();
        int replicaCount = Integer.parseInt(option("replicas", "3"));
        int cycles = Integer.parseInt(option("cycles", "20"));
        Path jar = Path.of(option("jar", "target/bench-build/capo.jar")).toAbsolutePath();
        Path out = Path.of(option("out", "target/bench-build/run")).toAbsolutePath();
        Files.createDirectories(out);
        if (!Files.isRegularFile(jar)) {
            System.err.println("no Capo jar at " + jar + " (scripts/bench builds it)");
            return 2;
        }

        section("Machine");
        line("- date: " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        line("- " + Machine.describe());
        line("- Capo JVMs: `java " + System.getenv().getOrDefault("BENCH_CAPO_JAVA_OPTS",
                CapoProcess.DEFAULT_JAVA_OPTS) + " -jar capo.jar` (the chart's options, in a 768Mi container)");
        line("- options: " + options);

        long started = System.nanoTime();
        try (BenchCluster cluster = new BenchCluster(out, jar)) {
            line("- API server: kube-apiserver " + cluster.client().getKubernetesVersion().getGitVersion()
                    + " + etcd (kube-api-test), admin client; webhook behind a round-robin TCP balancer");
            if (scenarios.contains("startup")) {
                startupScenario(cluster, out);
            }
            if (scenarios.contains("scale")) {
                scaleScenario(cluster);
            }
            if (scenarios.contains("burst") || scenarios.contains("direct") || scenarios.contains("nodeloss")) {
                webhookScenarios(cluster, scenarios, sizes, replicaCount);
            }
            cluster.stopReplicas();
            if (scenarios.contains("calico")) {
                calicoScenario(cluster, out);
            }
            if (scenarios.contains("release") || scenarios.contains("limits")) {
                releaseScenarios(cluster, scenarios, cycles);
            }
        } finally {
            line("");
            line("(benchmark ran " + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) + " s)");
            Path file = out.resolve("results.md");
            Files.writeString(file, String.join("\n", report) + "\n");
            System.out.println("\nresults written to " + file);
        }
        return 0;
    }

    private void webhookScenarios(BenchCluster cluster, Set<String> scenarios, List<Integer> sizes, int replicaCount)
            throws Exception {
        List<AdmissionBurst.Result> bursts = new ArrayList<>();
        String floorNs = cluster.env().namespace("floor", true);
        AdmissionBurst floor = new AdmissionBurst(cluster, floorNs);
        if (scenarios.contains("burst")) {
            // first, while no Capo runs at all: the API server's own cost of the same deletions (floor), then with a
            // webhook that allows everything at once (what any webhook costs: the API server's call, TLS, JSON)
            for (int n : sizes) {
                bursts.add(floor.run(n, AdmissionBurst.Mode.FLOOR, 0, awaitQuiet()));
                System.out.println(describe(bursts.get(bursts.size() - 1)));
            }
            try (NoopWebhook noop = new NoopWebhook(cluster.env().certDir())) {
                cluster.registerWebhook(noop.port(), floorNs);
                for (int n : sizes) {
                    bursts.add(floor.run(n, AdmissionBurst.Mode.NOOP, 0, awaitQuiet()));
                    System.out.println(describe(bursts.get(bursts.size() - 1)));
                }
                cluster.unregisterWebhook();
            }
        }

        String ns = cluster.env().namespace("burst", true);
        AdmissionBurst burst = new AdmissionBurst(cluster, ns);
        int objects = 1;
        Footprint footprint = new Footprint();
        startReplicas(cluster, replicaCount, objects, footprint);
        cluster.registerWebhook(ns);
        footprint.idle(cluster.replicas());

        int warmup = Integer.parseInt(option("warmup-burst", "500"));
        if (warmup > 0 && (scenarios.contains("burst") || scenarios.contains("direct"))) {
            // the replicas have just started: one burst, not reported, so that the figures are not all JIT warm-up
            AdmissionBurst.Result w = burst.run(warmup, AdmissionBurst.Mode.CAPO, objects, awaitQuiet());
            System.out.println("warm-up " + describe(w));
            cluster.deleteObjects(objects);
            BenchCluster.sleep(1000);
        }
        if (scenarios.contains("burst")) {
            for (int n : sizes) {
                if (objectsFor(n) != objects) {
                    continue;
                }
                bursts.add(measuredBurst(cluster, burst, n, objects, footprint));
            }
        }
        List<DirectBurst.Result> direct = new ArrayList<>();
        if (scenarios.contains("direct")) {
            DirectBurst d = new DirectBurst(cluster, ns);
            for (int n : sizes) {
                if (objectsFor(n) != objects) {
                    continue;
                }
                DirectBurst.Result r = d.run(n, cluster.webhookPort(), objects, awaitQuiet());
                System.out.println("direct: " + r + " client=" + Arrays.toString(r.client()) + " capo="
                        + Arrays.toString(r.capo()));
                direct.add(r);
                cluster.deleteObjects(objects);
                BenchCluster.sleep(1000);
            }
        }
        NodeLoss.Result nodeLoss = null;
        if (scenarios.contains("nodeloss")) {
            nodeLoss = new NodeLoss(cluster).run(ns, 110, objects, awaitQuiet());
            System.out.printf("node loss: %s%n", nodeLoss);
            cluster.deleteObjects(objects);
        }
        if (scenarios.contains("burst")) {
            for (int n : sizes) {
                int needed = objectsFor(n);
                if (needed == 1) {
                    continue;
                }
                if (needed != objects) {
                    cluster.stopReplicas();
                    objects = needed;
                    startReplicas(cluster, replicaCount, objects, null);
                    cluster.registerWebhook(ns);
                    if (warmup > 0) {
                        AdmissionBurst.Result w = burst.run(warmup, AdmissionBurst.Mode.CAPO, objects, awaitQuiet());
                        System.out.println("warm-up " + describe(w));
                        cluster.deleteObjects(objects);
                        BenchCluster.sleep(1000);
                    }
                }
                bursts.add(measuredBurst(cluster, burst, n, objects, null));
            }
        }

        if (!bursts.isEmpty()) {
            burstTables(bursts);
        }
        if (!direct.isEmpty()) {
            section("Admission burst straight to Capo (no API server in between)");
            line("N AdmissionReviews posted at once over HTTPS (HTTP/1.1, a connection each), half DELETE with the pod as "
                    + "oldObject, half CREATE pods/eviction; latency in ms.");
            line("");
            line("| N | replicas | load1 | wall | client p50 / p95 / p99 / max | Capo p50 / p95 / p99 / max | allowed / "
                    + "denied / errors | lost | writes (per reservation) | conflicts | CPU s Capo |");
            line("|---|---|---|---|---|---|---|---|---|---|---|");
            for (DirectBurst.Result r : direct) {
                line(String.format(Locale.ROOT, "| %d | %d | %.2f | %d ms | %s | %s | %d / %d / %d | %d | %.0f (%.3f) | "
                                + "%.0f | %.1f |", r.n(), r.replicas(), r.load1(), r.wallMs(), ms(r.client()),
                        ms(r.capo()), r.allowed(), r.denied(), r.errors(), r.lost(), r.writes(),
                        r.writes() / Math.max(1, r.n() - r.lost()), r.conflicts(), r.capoCpuMs() / 1000));
            }
        }
        if (nodeLoss != null) {
            section("Node loss");
            line("| pods on the node | replicas | load1 | first IP parked | all IPs parked | IPReservation writes | "
                    + "conflicts | not parked after 60 s |");
            line("|---|---|---|---|---|---|---|---|");
            line(String.format(Locale.ROOT, "| %d | %d | %.2f | %d ms | %s | %.0f | %.0f | %d |", nodeLoss.pods(),
                    nodeLoss.replicas(), nodeLoss.load1(), nodeLoss.firstReservedMs(),
                    nodeLoss.allReservedMs() < 0 ? "never" : nodeLoss.allReservedMs() + " ms", nodeLoss.writes(),
                    nodeLoss.conflicts(), nodeLoss.missing()));
        }
        footprint.table(this);
    }

    /** Issue 11: one replica's cost as the cluster grows ({@code --pods=0,1000,10000,30000}). */
    private void scaleScenario(BenchCluster cluster) throws Exception {
        List<Integer> sizes = Arrays.stream(option("pods", "0,1000,10000,30000").split(",")).map(String::trim)
                .map(Integer::parseInt).sorted().toList();
        ClusterScale scale = new ClusterScale(cluster);
        section("Cluster size (issue 11): one replica, " + ClusterScale.NAMESPACES + " namespaces ("
                + ClusterScale.OPTED_IN + " opted in), " + ClusterScale.NODES + " nodes");
        List<ClusterScale.Result> results = new ArrayList<>();
        for (int pods : sizes) {
            long seconds = scale.populate(pods, Integer.parseInt(option("create-threads", "12")));
            if (pods > 0) {
                System.out.println("cluster has " + pods + " pods (created in " + seconds + " s), "
                        + scale.podJsonBytes() + " bytes of JSON per pod");
            }
            ClusterScale.Result r = scale.measure(awaitQuiet());
            results.add(r);
            System.out.println(r);
        }
        line("Pods spread evenly over the namespaces; each pod " + (sizes.get(sizes.size() - 1) > 0
                ? scale.podJsonBytes() + " bytes of JSON as stored (managedFields of two managers included)" : "")
                + ". LIST: what the API server answered to every LIST during Capo's start (its own metrics "
                + "apiserver_response_sizes / apiserver_request_duration_seconds, verb LIST). Live heap: after "
                + "`jcmd GC.run`. Webhook: 50 sequential forced deletions of selected pods, client-side, and Capo's "
                + "mean answer time (capo_webhook_duration_seconds).");
        line("");
        line("| pods (opted-in) | Ready | CPU to Ready | live heap | RSS | LIST at start (requests) | LIST time | "
                + "delete p50 / max (Capo mean) | restart: Ready, LIST | load |");
        line("|---|---|---|---|---|---|---|---|---|---|");
        for (ClusterScale.Result r : results) {
            line(String.format(Locale.ROOT, "| %,d (%,d) | %.1f s | %.1f s | %.1f MiB | %.0f MiB | %.2f MiB (%d) | "
                            + "%.2f s | %.0f / %.0f ms (%.1f ms) | %.1f s, %.2f MiB | %.1f |", r.pods(), r.podsOptedIn(),
                    r.readyMs() / 1000.0, r.cpuMsToReady() / 1000.0, r.liveHeap() / 1048576.0, r.rss() / 1048576.0,
                    r.listMiB(), r.listRequests(), r.listSeconds(), r.webhookP50Ms(), r.webhookMaxMs(),
                    r.webhookServerMeanMs(), r.restartReadyMs() / 1000.0, r.restartListMiB(), r.load()));
        }
    }

    private void startupScenario(BenchCluster cluster, Path out) throws Exception {
        awaitQuiet();
        List<Startup.Result> results = new Startup(cluster, out).run(Integer.parseInt(option("starts", "5")));
        section("Start-up (one replica alone, started one after the other)");
        line("From process start to the first 200 of /observe/health/ready (informers synced, webhook path warmed up).");
        line("");
        line("| JVM | ready after, each start | median | RSS idle (5 s after ready) |");
        line("|---|---|---|---|");
        for (Startup.Result r : results) {
            line(String.format(Locale.ROOT, "| %s | %s ms | %d ms | %.0f MiB |", r.variant(),
                    r.readyMs().stream().map(String::valueOf).collect(Collectors.joining(", ")), r.median(),
                    r.rssIdle() / 1048576.0));
        }
    }

    /** Objects needed for n reservations: Capo refuses more than 900 per object and spreads entries by hash. */
    static int objectsFor(int n) {
        return n <= 800 ? 1 : (int) Math.ceil(n / 700.0);
    }

    private void startReplicas(BenchCluster cluster, int count, int objects, Footprint footprint) throws Exception {
        Map<String, String> settings = Map.of("ipReserveTime", "1h", "ipReserveMaxCount", "10000",
                "reservationObjects", Integer.toString(objects));
        awaitQuiet();
        // the first alone (its start-up time on an otherwise idle machine), then the others together, as a rollout
        List<CapoProcess> first = cluster.startReplicas(1, settings);
        List<CapoProcess> rest = count > 1 ? cluster.startReplicas(count - 1, settings) : List.of();
        if (footprint != null) {
            footprint.started(first, rest);
        }
    }

    private AdmissionBurst.Result measuredBurst(BenchCluster cluster, AdmissionBurst burst, int n, int objects,
                                                Footprint footprint) throws Exception {
        double load = awaitQuiet();
        Footprint.Sampler sampler = footprint != null && n == 500 ? footprint.sample(cluster.replicas()) : null;
        AdmissionBurst.Result r;
        try {
            r = burst.run(n, AdmissionBurst.Mode.CAPO, objects, load);
        } finally {
            if (sampler != null) {
                sampler.close();
            }
        }
        if (sampler != null) {
            footprint.afterBurst(cluster.replicas());
        }
        System.out.println(describe(r));
        cluster.deleteObjects(objects);
        BenchCluster.sleep(1000);
        return r;
    }

    private void burstTables(List<AdmissionBurst.Result> bursts) {
        section("Admission burst (N concurrent deletions, half DELETE, half Eviction)");
        line("Latency in ms. *client*: the deletion call as the caller sees it. *Capo*: `capo_webhook_duration_seconds` "
                + "(time inside the webhook bean, summed over replicas, interpolated in Micrometer's buckets; max from "
                + "`_max`). *API server*: `apiserver_admission_webhook_admission_duration_seconds` for the webhook, "
                + "upper bounds of its buckets (5, 25, 100, 500 ms, 1 s, ...), and the share at or below 100 ms.");
        line("");
        line("| N | mode | replicas / objects | load1 | wall | client p50 / p95 / p99 / max | Capo p50 / p95 / p99 / max "
                + "| API server p50 / p95 / p99 | ≤ 100 ms | refused (by Capo) | lost | reviews | writes: parked / "
                + "settled (per reservation) | conflicts | all parked / settled after | CPU s Capo / API server+etcd |");
        line("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (AdmissionBurst.Result r : bursts) {
            boolean w = r.mode().equals("capo");
            boolean any = !r.mode().equals("floor");
            line(String.format(Locale.ROOT, "| %d | %s | %s | %.2f | %d ms | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                            + "| %s | %s |",
                    r.n(), r.mode(), w ? r.replicas() + " / " + r.objects() : "-", r.load1(), r.wallMs(), ms(r.client()),
                    w ? ms(r.capo()) : "-", any ? bounds(r.apiserverBound()) : "-",
                    any ? String.format(Locale.ROOT, "%.1f %%", 100 * r.apiserverShareUnder100ms()) : "-",
                    r.refused() + (w ? " (" + r.capoDenied() + ")" : ""), w ? Integer.toString(r.lost()) : "-",
                    w ? String.format(Locale.ROOT, "%.0f", r.reviews()) : "-",
                    w ? String.format(Locale.ROOT, "%.0f / %.0f (%.3f)", r.writesReserved(), r.writesSettled(),
                            r.writesPerReservation()) : "-",
                    w ? String.format(Locale.ROOT, "%.0f", r.conflicts()) : "-",
                    w ? r.reservedMs() + " / " + r.settledMs() + " ms" : "-",
                    String.format(Locale.ROOT, "%.1f / %.1f", r.capoCpuMs() / 1000, r.apiCpuMs() / 1000)));
        }
        line("");
        line("Added latency, client side, as a ratio to the floor (no webhook) of the same N:");
        line("");
        line("| N | webhook | p50 | p95 | p99 | max |");
        line("|---|---|---|---|---|---|");
        for (AdmissionBurst.Result w : bursts) {
            if (w.mode().equals("floor")) {
                continue;
            }
            bursts.stream().filter(f -> f.mode().equals("floor") && f.n() == w.n()).findFirst().ifPresent(f ->
                    line(String.format(Locale.ROOT, "| %d | %s | %.1f× (+%.0f ms) | %.1f× (+%.0f ms) | %.1f× (+%.0f ms) | "
                                    + "%.1f× (+%.0f ms) |", w.n(), w.mode(),
                            w.client()[0] / f.client()[0], w.client()[0] - f.client()[0],
                            w.client()[1] / f.client()[1], w.client()[1] - f.client()[1],
                            w.client()[2] / f.client()[2], w.client()[2] - f.client()[2],
                            w.client()[3] / f.client()[3], w.client()[3] - f.client()[3])));
        }
        for (AdmissionBurst.Result r : bursts) {
            if (!r.perReplica().isEmpty() && r.replicas() > 1) {
                line("");
                line("Per replica at N=" + r.n() + ": " + String.join("; ", r.perReplica()) + ".");
            }
        }
        for (AdmissionBurst.Result r : bursts) {
            if (!r.refusals().isEmpty()) {
                line("");
                line("Refusals at N=" + r.n() + " (" + r.mode() + "), by kind: "
                        + r.refusals().stream().map(s -> "`" + shorten(s) + "`")
                        .collect(Collectors.joining("; ")));
            }
        }
    }

    private void calicoScenario(BenchCluster cluster, Path out) throws Exception {
        section("calico-ipam " + io.capo.it.CalicoIpam.VERSION + " ADD with addresses parked by Capo "
                + "(crd.projectcalico.org/v1, one process per ADD as a CNI runtime runs it)");
        if (!CalicoIpamBench.available()) {
            line("skipped: no calico-ipam in " + io.capo.it.CalicoIpam.home() + " (scripts/provision-calico-ipam.sh)");
            return;
        }
        int assigns = Integer.parseInt(option("assigns", "50"));
        List<Integer> levels = Arrays.stream(option("parked", "0,300,900,2000").split(",")).map(String::trim)
                .map(Integer::parseInt).toList();
        CalicoIpamBench bench = new CalicoIpamBench(cluster, out);
        List<CalicoIpamBench.Result> results = new ArrayList<>();
        try {
            for (int parked : levels) {
                CalicoIpamBench.Result r = bench.run(parked, assigns, awaitQuiet());
                System.out.printf(Locale.ROOT, "calico-ipam: parked %d in %d object(s), ADD p50/p95 %s ms, "
                        + "LIST %d B%n", r.parked(), r.objects(), ms(r.addMs()), r.listBytes());
                results.add(r);
            }
        } finally {
            bench.close();
        }
        line("uptime at the end: " + uptime());
        line("");
        line("| parked by Capo | IPReservation objects | CIDRs stored | ADD p50 / p95 (" + assigns
                + " assigns) | IPReservation LIST per assignment | LIST pages | 1-min load |");
        line("|---:|---:|---:|---:|---:|---:|---:|");
        for (CalicoIpamBench.Result r : results) {
            line(String.format(Locale.ROOT, "| %d | %d | %d | %s ms | %.1f KiB | %d | %.2f |", r.parked(),
                    r.objects(), r.storedCidrs(), ms(r.addMs()), r.listBytes() / 1024.0, r.listPages(), r.load1()));
        }
    }

    private static String uptime() {
        try {
            Process p = new ProcessBuilder("uptime").redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
            p.waitFor(5, TimeUnit.SECONDS);
            return text;
        } catch (IOException e) {
            return "?";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }

    private void releaseScenarios(BenchCluster cluster, Set<String> scenarios, int cycles) throws Exception {
        int warmupCycles = Integer.parseInt(option("warmup-cycles", "60"));
        List<ReleaseCycleBench.Result> results = new ArrayList<>();
        ReleaseCycleBench bench = new ReleaseCycleBench(cluster.client(), io.capo.it.ItSupport.unique("bench-release"));
        if (scenarios.contains("release")) {
            for (String c : option("release", "300x1,2000x3,10000x12,10000x16").split(",")) {
                String[] heldAndObjects = c.trim().split("x");
                results.add(print(bench.run(Integer.parseInt(heldAndObjects[0]), Integer.parseInt(heldAndObjects[1]),
                        false, warmupCycles, cycles, awaitQuiet())));
            }
        }
        if (scenarios.contains("limits")) {
            results.add(print(bench.run(2000, 1, false, 0, 5, awaitQuiet())));
            results.add(print(bench.run(900, 1, true, 0, 5, awaitQuiet())));
        }
        section("Release cycle (leader), clock + 5 s per cycle, TTL 40m, gone times spread over the last 40m");
        line("CPU in ms: *cycle thread* is `ReleaseCycle.run()` on the calling thread (plan, hand-over, wait); *all "
                + "threads* adds the writers (serialisation, TLS, HTTP) and the informer decoding the new version, "
                + "300 ms after the cycle. Median / max over " + cycles + " cycles after " + warmupCycles
                + " warm-up cycles (the leader runs one every 5 s; the limit probes: 5 cycles, no warm-up); *first* "
                + "is the cycle thread's CPU in the first measured cycle.");
        line("");
        line("| held (at measurement) | objects | names | load1 | accepted / refused | fill | first | cycle thread p50 / max | "
                + "all threads p50 / max | writes per cycle avg / max | released per cycle | largest object: entries, "
                + "annotations, whole object | bytes per entry |");
        line("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (ReleaseCycleBench.Result r : results) {
            line(String.format(Locale.ROOT, "| %d (%d) | %d | %s | %.2f | %d / %d | %d ms, %.0f writes | %.1f | %.1f / %.1f "
                            + "| %.1f / %.1f | %.2f / %d | %.1f | %d, %s, %s | %.0f |",
                    r.held(), r.heldAtStart(), r.objects(), r.longNames() ? "at limits" : "typical", r.load1(), r.accepted(),
                    r.refused(), r.fillMs(), r.fillWrites(), r.coldCycleCpuMs(), r.cycleCpuMs()[0], r.cycleCpuMs()[1],
                    r.allThreadsCpuMs()[0], r.allThreadsCpuMs()[1], r.writesPerCycle(), r.maxWritesPerCycle(),
                    r.releasedPerCycle(), r.largestObjectEntries(), kib(r.largestAnnotationBytes(),
                            ReleaseCycleBench.ANNOTATIONS_LIMIT), kib(r.largestObjectBytes(),
                            ReleaseCycleBench.OBJECT_LIMIT), r.bytesPerEntry()));
        }
        for (ReleaseCycleBench.Result r : results) {
            if (r.refused() > 0) {
                line("");
                line("Refused at " + r.held() + " held / " + r.objects() + " object(s), " + (r.longNames()
                        ? "names at limits" : "typical names") + ": `" + shorten(r.refusal()) + "`");
            }
        }
    }

    private static ReleaseCycleBench.Result print(ReleaseCycleBench.Result r) {
        System.out.println("release: " + r + " cycle=" + Arrays.toString(r.cycleCpuMs()) + " all="
                + Arrays.toString(r.allThreadsCpuMs()));
        return r;
    }

    /** A message for a table: no pipes, no line breaks, at most 240 characters. */
    static String shorten(String message) {
        String flat = String.valueOf(message).replace('|', '/').replace('\n', ' ');
        return flat.length() <= 240 ? flat : flat.substring(0, 240) + " …";
    }

    private static String kib(long bytes, long limit) {
        return String.format(Locale.ROOT, "%.0f KiB (%.0f %%)", bytes / 1024.0, 100.0 * bytes / limit);
    }

    private static String ms(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double d : v) {
            if (b.length() > 0) {
                b.append(" / ");
            }
            b.append(Double.isNaN(d) ? "-" : String.format(Locale.ROOT, d < 10 ? "%.1f" : "%.0f", d));
        }
        return b.toString();
    }

    private static String bounds(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double d : v) {
            if (b.length() > 0) {
                b.append(" / ");
            }
            b.append(Double.isNaN(d) ? "-" : Double.isInfinite(d) ? "> 25000" : String.format(Locale.ROOT, "≤ %.0f", d));
        }
        return b.toString();
    }

    private static String describe(AdmissionBurst.Result r) {
        return String.format(Locale.ROOT, "burst N=%d %s: wall %d ms, client %s ms, capo %s ms, apiserver %s ms "
                        + "(%.1f%% <= 100ms), refused %d (capo %d), lost %d, reviews %.0f, writes %.0f/%.0f, conflicts %.0f,"
                        + " parked %d ms, settled %d ms, cpu capo %.1fs api %.1fs, reviews %s, per replica %s%s",
                r.n(), r.mode(), r.wallMs(), ms(r.client()), ms(r.capo()), bounds(r.apiserverBound()),
                100 * r.apiserverShareUnder100ms(), r.refused(), r.capoDenied(), r.lost(), r.reviews(),
                r.writesReserved(), r.writesSettled(), r.conflicts(), r.reservedMs(), r.settledMs(),
                r.capoCpuMs() / 1000, r.apiCpuMs() / 1000, r.reviewsBy(), r.perReplica(), r.refusals().isEmpty() ? "" : " " + r.refusals());
    }

    /** Waits (bounded by --wait-load) for a 1-minute load below 1; returns the load measured at the start. */
    private double awaitQuiet() {
        long wait = Long.parseLong(option("wait-load", "60"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(wait);
        double load = ApiServerProcesses.loadAverage()[0];
        while (load >= 1.0 && System.nanoTime() < deadline) {
            BenchCluster.sleep(2000);
            load = ApiServerProcesses.loadAverage()[0];
        }
        if (load >= 1.0) {
            System.out.printf(Locale.ROOT, "note: 1-minute load is %.2f (waited %d s for < 1)%n", load, wait);
        }
        return load;
    }

    void section(String title) {
        line("");
        line("### " + title);
        line("");
    }

    void line(String text) {
        report.add(text);
        System.out.println(text);
    }

    /** Start-up time, RSS and heap of the replicas, idle and while the 500-burst runs. */
    static final class Footprint {
        // ready, rssIdle, heapIdle, rssPeak, heapPeak, heap after a full GC once the burst is over
        private final Map<String, long[]> rows = new LinkedHashMap<>();
        private final Map<String, String> notes = new LinkedHashMap<>();

        void started(List<CapoProcess> alone, List<CapoProcess> together) {
            for (CapoProcess p : alone) {
                row(p)[0] = p.readyMillis();
                notes.put(p.identity(), "started alone");
            }
            for (CapoProcess p : together) {
                row(p)[0] = p.readyMillis();
                notes.put(p.identity(), "started with " + (together.size() - 1) + " other(s)");
            }
        }

        void idle(List<CapoProcess> replicas) {
            BenchCluster.sleep(10_000);
            for (CapoProcess p : replicas) {
                row(p)[1] = p.rssBytes();
                row(p)[2] = heapUsed(p);
            }
        }

        private long[] row(CapoProcess p) {
            return rows.computeIfAbsent(p.identity(), k -> new long[]{-1, -1, -1, -1, -1, -1});
        }

        static long heapUsed(CapoProcess p) {
            return (long) p.metrics().sum("jvm_memory_used_bytes", "area", "heap");
        }

        /** The live heap: what is left after a full collection (jcmd GC.run), once the burst is over. */
        void afterBurst(List<CapoProcess> replicas) {
            for (CapoProcess p : replicas) {
                try {
                    new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                            Long.toString(p.pid()), "GC.run").redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(30, TimeUnit.SECONDS);
                    BenchCluster.sleep(500);
                    row(p)[5] = heapUsed(p);
                } catch (IOException | RuntimeException e) {
                    System.out.println("no live heap for " + p.identity() + ": " + e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        Sampler sample(List<CapoProcess> replicas) {
            return new Sampler(replicas);
        }

        final class Sampler implements AutoCloseable {
            private final Thread thread;
            private volatile boolean running = true;

            Sampler(List<CapoProcess> replicas) {
                thread = new Thread(() -> {
                    int tick = 0;
                    while (running) {
                        for (CapoProcess p : replicas) {
                            long[] row = row(p);
                            row[3] = Math.max(row[3], p.rssBytes());
                            if (tick % 5 == 0) {
                                try {
                                    row[4] = Math.max(row[4], heapUsed(p));
                                } catch (RuntimeException ignored) {
                                    // a scrape that timed out under load
                                }
                            }
                        }
                        tick++;
                        try {
                            Thread.sleep(100);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "footprint-sampler");
                thread.setDaemon(true);
                thread.start();
            }

            @Override
            public void close() throws InterruptedException {
                running = false;
                thread.join(5_000);
            }
        }

        void table(BenchMain out) {
            if (rows.isEmpty()) {
                return;
            }
            out.section("Footprint (each replica its own JVM)");
            out.line("RSS is VmRSS from /proc; heap is `jvm_memory_used_bytes{area=\"heap\"}` (live objects and garbage "
                    + "not yet collected); *under load* is the largest value sampled (RSS every 100 ms, heap every 500 ms) "
                    + "during the measured 500-burst, its pod creation included; idle: 10 s after Ready. Ready: from "
                    + "process start to the first 200 of /observe/health/ready, the replicas started as a rollout "
                    + "would (the first alone, then the others together).");
            out.line("");
            out.line("| replica | ready after | RSS idle | heap idle | RSS under load (max) | heap under load (max) | "
                    + "live heap after the burst (full GC) |");
            out.line("|---|---|---|---|---|---|---|");
            rows.forEach((id, r) -> out.line(String.format(Locale.ROOT, "| %s (%s) | %d ms | %s | %s | %s | %s | %s |",
                    id, notes.getOrDefault(id, ""), r[0], mib(r[1]), mib(r[2]), mib(r[3]), mib(r[4]), mib(r[5]))));
        }

        private static String mib(long bytes) {
            return bytes < 0 ? "-" : String.format(Locale.ROOT, "%.0f MiB", bytes / 1048576.0);
        }
    }

    /** What the figures were measured on. */
    static final class Machine {
        static String describe() {
            String cpu = "?";
            try {
                cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                        .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
            } catch (IOException ignored) {
                // not Linux
            }
            long memKb = -1;
            try {
                memKb = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                        .findFirst().map(l -> Long.parseLong(l.replaceAll("\\D", ""))).orElse(-1L);
            } catch (IOException ignored) {
                // not Linux
            }
            double[] load = ApiServerProcesses.loadAverage();
            return String.format(Locale.ROOT, "%d cores (%s), %.1f GiB RAM, %s %s, Java %s; load at start %.2f %.2f "
                            + "%.2f", Runtime.getRuntime().availableProcessors(), cpu, memKb / 1048576.0,
                    System.getProperty("os.name"), System.getProperty("os.version"),
                    System.getProperty("java.runtime.version"), load[0], load[1], load[2]);
        }
    }

    static Duration seconds(long s) {
        return Duration.ofSeconds(s);
    }
}
