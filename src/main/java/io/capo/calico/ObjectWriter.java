package io.capo.calico;

import io.capo.logging.Failures;
import io.capo.reservation.LedgerStoppedException;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The single writer of one IPReservation object (group commit): takes everything queued, applies it to
 * the last known state, and writes once. New addresses alone are appended with a JSON patch without
 * resourceVersion (the object holds CIDRs only, so the patch is small, and replicas parking different addresses
 * never conflict); a duplicate (another replica parked the same address meanwhile; {@code reservedCIDRs} is a set)
 * is refused by the API server, and the batch is then written the guarded way. Everything else is a
 * {@code resourceVersion}-guarded update: on a conflict it takes the newer version its informer already has (or
 * reads the object again) and re-applies, together with whatever was queued meanwhile; on any other failure it keeps
 * the batch and retries with backoff, so a change accepted here is not lost while the API server is away. A client
 * error that no retry can cure fails the batch.
 */
final class ObjectWriter implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(ObjectWriter.class);
    private static final int MAX_QUEUED = 20_000;
    private static final int MAX_BATCH = 2_000;
    private static final int MAX_CONFLICT_RETRIES = 100;
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
    /** How long after another writer was seen the replicas count as competing for the object. */
    private static final long CONTENTION_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long MAX_LINGER_MILLIS = 200;

    private final String name;
    private final ObjectStates objects;
    private final int maxEntries;
    private final StoreMetrics metrics;
    private final BlockingQueue<Operations.Op<?>> queue = new LinkedBlockingQueue<>(MAX_QUEUED);
    private volatile boolean running;
    private Thread thread;
    /** Duration of the last successful update, writer thread only. */
    private long lastWriteMillis = 50;

    ObjectWriter(String name, ObjectStates objects, int maxEntries, StoreMetrics metrics) {
        this.name = name;
        this.objects = objects;
        this.maxEntries = maxEntries;
        this.metrics = metrics;
    }

    void start() {
        running = true;
        thread = new Thread(this, "capo-writer-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    void close() {
        running = false;
        if (thread != null) {
            thread.interrupt();
        }
        List<Operations.Op<?>> left = new ArrayList<>();
        queue.drainTo(left);
        left.forEach(op -> op.fail(new LedgerStoppedException("Capo is stopping")));
    }

    <T> CompletableFuture<T> submit(Operations.Op<T> op) {
        if (!running) {
            op.fail(new LedgerStoppedException("reservation writer for " + name + " is not running"));
        } else if (!queue.offer(op)) {
            op.fail(new IllegalStateException("too many reservation changes queued for IPReservation " + name));
        }
        return op.future;
    }

    @Override
    public void run() {
        List<Operations.Op<?>> batch = new ArrayList<>();
        long backoffMillis = 100;
        while (running) {
            try {
                if (batch.isEmpty()) {
                    Operations.Op<?> first = queue.poll(1, TimeUnit.SECONDS);
                    if (first == null) {
                        continue;
                    }
                    batch.add(first);
                    lingerWhileContended();
                }
                queue.drainTo(batch, MAX_BATCH - batch.size());
                write(batch);
                batch.clear();
                backoffMillis = 100;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                metrics.writeFailure(name);
                LOG.warn("writing IPReservation {} failed ({} changes kept, retrying in {} ms): {}", name,
                        batch.size(), backoffMillis, Failures.describe(e));
                try {
                    Thread.sleep(backoffMillis);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
                backoffMillis = Math.min(backoffMillis * 2, MAX_BACKOFF.toMillis());
            }
        }
        batch.forEach(op -> op.fail(new LedgerStoppedException("Capo is stopping")));
    }

    /**
     * Group commit across replicas. The replica that just won a write knows the newest resourceVersion and would
     * win the next race as well, while the losers are still re-reading the object: without a pause their changes
     * could wait for seconds (past the webhook budget). When another writer was seen recently, wait about one write
     * before writing again; the losers get their turn and this replica's next write carries more changes.
     */
    private void lingerWhileContended() throws InterruptedException {
        if (objects.contended(name, CONTENTION_WINDOW_NANOS)) {
            long base = Math.max(10, Math.min(lastWriteMillis, MAX_LINGER_MILLIS));
            Thread.sleep(base / 2 + ThreadLocalRandom.current().nextLong(base + 1));
        }
    }

    /** A client error other than conflict, not found, throttling or timeout: retrying cannot help. */
    static boolean rejected(KubernetesClientException e) {
        int code = e.getCode();
        return code >= 400 && code < 500 && code != 404 && code != 408 && code != 409 && code != 429
                && code != 401 && code != 403;
    }

    /** Whether the informer already delivered a newer version than the one a write conflicted on. */
    private static boolean newer(Snapshot candidate, Snapshot base) {
        if (candidate == null || base == null) {
            return false;
        }
        String known = base.resource().getMetadata().getResourceVersion();
        String next = candidate.resource().getMetadata().getResourceVersion();
        return next != null && !next.equals(known) && ObjectStates.olderThan(known, next);
    }

    /** JSON patch appending what {@code work} holds beyond {@code base}. */
    private String appendPatch(ReservationObject base, ReservationObject work) {
        List<java.util.Map<String, String>> ops = new ArrayList<>();
        for (String cidr : work.cidrs()) {
            if (!base.containsCidr(cidr)) {
                ops.add(java.util.Map.of("op", "add", "path", "/spec/reservedCIDRs/-", "value", cidr));
            }
        }
        return objects.serialization().asJson(ops);
    }

    private void write(List<Operations.Op<?>> batch) {
        Snapshot base = objects.snapshot(name);
        if (base == null) {
            base = objects.refresh(name);
        }
        boolean appendRefused = false;
        for (int attempt = 1; ; attempt++) {
            ReservationObject work = base == null ? ReservationObject.empty(name) : base.view().copy();
            List<Operations.Op<?>> applied = new ArrayList<>(batch.size());
            boolean changed = false;
            for (Operations.Op<?> op : batch) {
                try {
                    changed |= op.applyTo(work, maxEntries);
                    applied.add(op);
                } catch (Operations.ObjectFullException e) {
                    op.fail(e);
                }
            }
            batch.retainAll(applied);
            if (!changed) {
                Operations.forEachQuietly(batch, Operations.Op::complete);
                return;
            }
            // new addresses only: appended by a JSON patch without resourceVersion, so that replicas parking
            // different addresses at once never conflict (the object is small now; docs/benchmarks.md)
            boolean append = base != null && !appendRefused && base.view().hasCidrList()
                    && batch.stream().allMatch(op -> op instanceof Operations.Add add && add.appendable);
            try {
                long start = System.nanoTime();
                GenericKubernetesResource written;
                if (append) {
                    written = objects.resources().withName(name).patch(PatchContext.of(PatchType.JSON),
                            appendPatch(base.view(), work));
                } else {
                    GenericKubernetesResource desired = work.toResource(objects.api().apiVersion());
                    written = base == null ? objects.resources().resource(desired).create()
                            : objects.resources().resource(desired).update();
                }
                long nanos = System.nanoTime() - start;
                lastWriteMillis = TimeUnit.NANOSECONDS.toMillis(nanos);
                objects.written(written);
                metrics.write(name, nanos);
                ObjectStates.logWrite(name, batch.size(), written.getMetadata().getResourceVersion(),
                        lastWriteMillis);
                Operations.forEachQuietly(batch, Operations.Op::complete);
                return;
            } catch (KubernetesClientException e) {
                if (append && (e.getCode() == 422 || e.getCode() == 403)) {
                    // 422: a duplicate (reservedCIDRs is a set): another replica parked one of these meanwhile;
                    // 403: no permission to patch (a role from before appends). Look again and write the guarded way
                    if (e.getCode() == 403) {
                        LOG.warn("IPReservation {}: appending by patch is forbidden ({}); writing by update instead"
                                + " (grant the verb patch on it)", name, Failures.describe(e));
                    }
                    appendRefused = true;
                    base = objects.refresh(name);
                    continue;
                }
                if (rejected(e)) {
                    // the API server will refuse this write however often it is sent
                    metrics.writeFailure(name);
                    LOG.error("IPReservation {} refused the change ({} changes dropped): {}", name, batch.size(),
                            Failures.describe(e));
                    Operations.forEachQuietly(batch, op -> op.fail(e));
                    return;
                }
                boolean retryable = ObjectStates.isConflict(e) || e.getCode() == 404;
                if (!retryable || attempt >= MAX_CONFLICT_RETRIES) {
                    throw e;
                }
                metrics.conflict(name);
                objects.foreignWrite(name);
                base = newer(objects.snapshot(name), base) ? objects.snapshot(name) : objects.refresh(name);
                // changes queued meanwhile join the retry: under contention between replicas every write that
                // wins should carry all that is waiting here, or the queue grows faster than it drains
                queue.drainTo(batch, MAX_BATCH - batch.size());
            }
        }
    }
}
