package io.capo.bench;

import io.capo.calico.CalicoApi;
import io.capo.calico.CalicoReservationStore;
import io.capo.calico.ReservationObject;
import io.capo.calico.CountingStoreMetrics;
import io.capo.release.PodLiveness;
import io.capo.release.ReleaseCycle;
import io.capo.release.ReleaseMetrics;
import io.capo.release.ReleasePlan;
import io.capo.release.ReleasePolicy;
import io.capo.reservation.ReservationRequest;
import io.capo.reservation.ReserveResult;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The leader's release cycle over H held reservations, on the real API server, in this JVM: Capo's own
 * {@link CalicoReservationStore} (informer, group-commit writers) and {@link ReleaseCycle}, filled through the same
 * {@code reserve()} path the webhook uses, with realistic names. The entries' pods are gone, their gone times spread
 * over the last {@code ipReserveTime} (40m), so each cycle (clock + 5s, the default ipReleasePeriod) releases about
 * H x 5s / 40m of them, as in a steady state. CPU is measured per thread with {@link ThreadMXBean}.
 */
final class ReleaseCycleBench {

    static final Duration TTL = Duration.ofMinutes(40);
    static final Duration PERIOD = Duration.ofSeconds(5);
    static final int MAX_ENTRIES_PER_OBJECT = 10_000; // as CapoConfiguration
    static final long ANNOTATIONS_LIMIT = 256 * 1024;
    static final long OBJECT_LIMIT = 1536 * 1024; // etcd's default request limit, about 1.5 MiB

    record Result(int held, int heldAtStart, int objects, boolean longNames, double load1, int accepted, int refused, String refusal,
                  long fillMs, double fillWrites,
                  double coldCycleCpuMs, double[] cycleCpuMs, double[] allThreadsCpuMs,
                  double writesPerCycle, int maxWritesPerCycle, double releasedPerCycle, int cycles,
                  long largestAnnotationBytes, long largestObjectBytes, int largestObjectEntries,
                  double bytesPerEntry) {
    }

    /** A clock the benchmark moves forward, one release period per cycle. */
    static final class SteppingClock extends Clock {
        final AtomicLong millis;

        SteppingClock(Instant start) {
            millis = new AtomicLong(start.toEpochMilli());
        }

        void step(Duration d) {
            millis.addAndGet(d.toMillis());
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }
    }

    private final KubernetesClient client;
    private final String baseName;

    ReleaseCycleBench(KubernetesClient client, String baseName) {
        this.client = client;
        this.baseName = baseName;
    }

    Result run(int held, int objects, boolean longNames, int warmup, int cycles, double load1) throws Exception {
        CountingStoreMetrics metrics = new CountingStoreMetrics();
        CalicoApi api = new CalicoApi(CalicoApi.V3);
        CalicoReservationStore store = new CalicoReservationStore(client, api, "default", baseName, objects,
                MAX_ENTRIES_PER_OBJECT, Duration.ofMinutes(1), metrics);
        try {
            store.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!store.synced() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Instant now = Instant.now();
            // fill: H pods gone over the last 40 minutes, reserved through the webhook's path, 200 at a time
            Random random = new Random(42);
            List<ReservationRequest> requests = Workload.requests(held, now, TTL, random, longNames);
            int accepted = 0;
            int refused = 0;
            String refusal = "";
            long fillStart = System.nanoTime();
            for (int from = 0; from < requests.size(); from += 200) {
                List<CompletableFuture<ReserveResult>> batch = new ArrayList<>();
                for (ReservationRequest r : requests.subList(from, Math.min(requests.size(), from + 200))) {
                    batch.add(store.reserve(r));
                }
                for (CompletableFuture<ReserveResult> f : batch) {
                    try {
                        ReserveResult result = f.get(60, TimeUnit.SECONDS);
                        accepted += result.added() + result.unchanged();
                    } catch (ExecutionException e) {
                        refused++;
                        refusal = e.getCause().getMessage();
                    }
                }
            }
            long fillMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - fillStart);
            double fillWrites = metrics.writes.get();
            // wait until the informers show everything written, the metadata (written after the CIDRs) included
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (store.held().size() < accepted && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }

            long largestAnnotation = 0;
            long largestObject = 0;
            int largestEntries = 0;
            long totalAnnotation = 0;
            int totalEntries = 0;
            for (String name : store.objectNames()) {
                GenericKubernetesResource r = client.genericKubernetesResources(api.context()).withName(name).get();
                if (r == null) {
                    continue;
                }
                String annotation = r.getMetadata().getAnnotations().getOrDefault(ReservationObject.METADATA_ANNOTATION,
                        "");
                long annotations = r.getMetadata().getAnnotations().entrySet().stream()
                        .mapToLong(e -> e.getKey().length() + e.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
                        .sum();
                long objectBytes = client.getKubernetesSerialization().asJson(r).getBytes(
                        java.nio.charset.StandardCharsets.UTF_8).length;
                int entries = ReservationObject.from(r).size();
                totalAnnotation += annotation.length();
                totalEntries += entries;
                if (annotations > largestAnnotation) {
                    largestAnnotation = annotations;
                    largestEntries = entries;
                }
                largestObject = Math.max(largestObject, objectBytes);
            }

            SteppingClock clock = new SteppingClock(now);
            ReleaseCycle cycle = new ReleaseCycle(store, (ns, pod, uid, cidr) -> PodLiveness.State.GONE, () -> true,
                    () -> new ReleasePolicy(TTL, Math.max(held, 1), Duration.ofMinutes(5)),
                    new ReleaseMetrics() {
                        @Override
                        public void released(String reason, int count) {
                        }

                        @Override
                        public void failure(String stage) {
                        }
                    }, clock);
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            double cold = Double.NaN;
            double[] cpu = new double[cycles];
            double[] all = new double[cycles];
            int totalWrites = 0;
            int maxWrites = 0;
            int released = 0;
            for (int w = 0; w < warmup; w++) {
                // JIT warm-up of planning, writing and TLS (the leader runs a cycle every 5 s for hours)
                clock.step(PERIOD);
                cycle.run();
                Thread.sleep(50);
            }
            int heldAtStart = store.heldCount();
            for (int c = 0; c <= cycles; c++) {
                clock.step(PERIOD);
                int writesBefore = metrics.writes.get();
                long allBefore = allThreadsCpu(threads);
                long before = threads.getCurrentThreadCpuTime();
                ReleasePlan plan = cycle.run();
                long own = threads.getCurrentThreadCpuTime() - before;
                // the informer decodes the written version on every replica: let it arrive, and count it
                Thread.sleep(300);
                long allDelta = allThreadsCpu(threads) - allBefore;
                int writes = metrics.writes.get() - writesBefore;
                if (c == 0) {
                    // the first measured cycle after the warm-up: reported apart, as "first"
                    cold = own / 1e6;
                    continue;
                }
                cpu[c - 1] = own / 1e6;
                all[c - 1] = allDelta / 1e6;
                totalWrites += writes;
                maxWrites = Math.max(maxWrites, writes);
                released += plan.releases().size();
            }
            Arrays.sort(cpu);
            Arrays.sort(all);
            return new Result(held, heldAtStart, objects, longNames, load1, accepted, refused, refusal, fillMs, fillWrites, cold,
                    new double[]{cpu[cycles / 2], cpu[cycles - 1]}, new double[]{all[cycles / 2], all[cycles - 1]},
                    (double) totalWrites / cycles, maxWrites, (double) released / cycles, cycles, largestAnnotation,
                    largestObject, largestEntries, totalEntries == 0 ? 0 : (double) totalAnnotation / totalEntries);
        } finally {
            store.close();
            for (String name : store.objectNames()) {
                client.genericKubernetesResources(api.context()).withName(name).delete();
            }
            Thread.sleep(500);
        }
    }

    private static long allThreadsCpu(ThreadMXBean threads) {
        long sum = 0;
        for (long id : threads.getAllThreadIds()) {
            long t = threads.getThreadCpuTime(id);
            if (t > 0) {
                sum += t;
            }
        }
        return sum;
    }

    /** Realistic reservations: stateful workloads in a few namespaces, AWS-style node names, random UIDs. */
    static final class Workload {
        private static final String[] NAMESPACES = {"kafka-prod", "redis-cache", "zookeeper", "payments-kafka",
                "search-elastic", "session-redis"};
        private static final String[] WORKLOADS = {"broker", "server", "member", "node"};

        /**
         * @param longNames names at Kubernetes' limits instead: 63-character namespaces and pod names (a StatefulSet
         *                  pod name is a DNS label), 100-character node names
         */
        static List<ReservationRequest> requests(int n, Instant now, Duration spread, Random random,
                                                 boolean longNames) {
            List<ReservationRequest> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String namespace = NAMESPACES[i % NAMESPACES.length];
                String pod = namespace + "-" + WORKLOADS[i % WORKLOADS.length] + "-" + (i / NAMESPACES.length);
                String node = "ip-10-" + random.nextInt(256) + "-" + random.nextInt(256) + "-" + random.nextInt(256)
                        + ".eu-west-1.compute.internal";
                if (longNames) {
                    namespace = pad(namespace, 63);
                    pod = pad(pod + "-", 63);
                    node = pad(node + ".", 100);
                }
                // microsecond precision, as Clock.systemUTC() gives on Linux
                Instant goneAt = now.minusNanos((long) (random.nextDouble() * spread.toNanos())).minusMillis(10)
                        .plusNanos(random.nextInt(1000) * 1000L).truncatedTo(java.time.temporal.ChronoUnit.MICROS);
                Instant reservedAt = goneAt.minusMillis(200 + random.nextInt(30_000));
                String ip = "10." + (40 + i / 65_536) + "." + (i / 256 % 256) + "." + (i % 256);
                out.add(new ReservationRequest(namespace, pod, UUID.randomUUID().toString(), node,
                        List.of(ip + "/32"), i % 2 == 0 ? "delete" : "eviction", reservedAt, goneAt, null));
            }
            return out;
        }

        private static String pad(String text, int length) {
            StringBuilder b = new StringBuilder(text);
            while (b.length() < length) {
                b.append('x');
            }
            return b.substring(0, length);
        }
    }
}
