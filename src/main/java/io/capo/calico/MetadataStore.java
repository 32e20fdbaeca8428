package io.capo.calico;

import io.capo.logging.Failures;

import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationReason;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The reservation metadata ({@link ReservedIps}), off the webhook's critical path: an informer keeps what is stored,
 * and changes are kept here as the desired state per address until a writer thread has stored them. Several changes
 * to one address before it is written cost one write; a failed write is retried with backoff until it lands (or
 * the API server refuses it for good); a few writer threads bound what a burst asks of the API server.
 */
final class MetadataStore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MetadataStore.class);
    private static final long MAX_BACKOFF_MILLIS = 5_000;

    private final KubernetesClient client;
    private final String namespace;
    private final String set;
    private final int threads;
    private final StoreMetrics metrics;
    /** What the API server holds, by CIDR (informer, and own writes as soon as they return). */
    private final Map<String, Stored> stored = new ConcurrentHashMap<>();
    /** Changes not stored yet, by CIDR. */
    private final Map<String, Pending> pending = new HashMap<>();
    private final LinkedBlockingQueue<String> dirty = new LinkedBlockingQueue<>();
    private final List<Thread> writers = new ArrayList<>();
    private volatile boolean running;
    private SharedIndexInformer<GenericKubernetesResource> informer;

    /** An object as stored, and the entry it describes (read once). */
    private record Stored(GenericKubernetesResource resource, Reservation entry) {
    }

    /** The entry wanted for a CIDR (null: none, delete it) and the object it belongs to. */
    private static final class Pending {
        Reservation desired;
        String object;
        long version;
        final List<CompletableFuture<Void>> waiters = new ArrayList<>();
    }

    MetadataStore(KubernetesClient client, String namespace, String set, int threads, StoreMetrics metrics) {
        this.client = client;
        this.namespace = namespace;
        this.set = set;
        this.threads = threads;
        this.metrics = metrics;
    }

    void start() {
        informer = resources().withLabel(ReservedIps.SET_LABEL, set).runnableInformer(0);
        informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(GenericKubernetesResource obj) {
                observe(obj);
            }

            @Override
            public void onUpdate(GenericKubernetesResource oldObj, GenericKubernetesResource newObj) {
                observe(newObj);
            }

            @Override
            public void onDelete(GenericKubernetesResource obj, boolean deletedFinalStateUnknown) {
                Reservation r = ReservedIps.from(obj);
                if (r != null) {
                    stored.computeIfPresent(r.cidr(), (k, known) -> sameName(known.resource(), obj) ? null : known);
                }
            }
        });
        informer.start();
        running = true;
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(this::runWriter, "capo-metadata-writer-" + i);
            t.setDaemon(true);
            t.start();
            writers.add(t);
        }
    }

    boolean synced() {
        return informer != null && informer.hasSynced();
    }

    @Override
    public void close() {
        running = false;
        writers.forEach(Thread::interrupt);
        if (informer != null) {
            informer.close();
        }
        synchronized (pending) {
            pending.values().forEach(p -> p.waiters.forEach(w -> w.completeExceptionally(
                    new IllegalStateException("Capo is stopping"))));
            pending.clear();
        }
    }

    /** The entry for a CIDR: the change not stored yet, else what is stored; null when there is none. */
    Reservation entry(String cidr) {
        synchronized (pending) {
            Pending p = pending.get(cidr);
            if (p != null) {
                return p.desired;
            }
        }
        Stored known = stored.get(cidr);
        return known == null ? null : known.entry();
    }

    /** Every entry, changes not stored yet included. */
    Map<String, Reservation> entries() {
        Map<String, Reservation> all = new HashMap<>();
        stored.forEach((cidr, known) -> all.put(cidr, known.entry()));
        synchronized (pending) {
            pending.forEach((cidr, p) -> {
                if (p.desired == null) {
                    all.remove(cidr);
                } else {
                    all.put(cidr, p.desired);
                }
            });
        }
        return all;
    }

    /** Whether a change for the CIDR waits to be written. */
    boolean isPending(String cidr) {
        synchronized (pending) {
            return pending.containsKey(cidr);
        }
    }

    /** Stores the entry (of the IPReservation {@code object}); completes once it is written. */
    CompletableFuture<Void> put(Reservation entry, String object) {
        return change(entry.cidr(), entry, object);
    }

    /**
     * Deletes the entry if it is still this one (same pod UID, same reservation time): an address released and
     * parked again for another pod meanwhile keeps its new entry.
     */
    CompletableFuture<Void> deleteIf(Reservation expected) {
        synchronized (pending) {
            Reservation current = entry(expected.cidr());
            if (current == null || !current.uid().equals(expected.uid())
                    || !current.reservedAt().equals(expected.reservedAt())) {
                return CompletableFuture.completedFuture(null);
            }
            return change(expected.cidr(), null, null);
        }
    }

    private CompletableFuture<Void> change(String cidr, Reservation desired, String object) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!running) {
            done.completeExceptionally(new IllegalStateException("reservation metadata writer is not running"));
            return done;
        }
        boolean queue;
        synchronized (pending) {
            Pending p = pending.get(cidr);
            queue = p == null;
            if (p == null) {
                p = new Pending();
                pending.put(cidr, p);
            }
            p.desired = desired;
            p.object = object;
            p.version++;
            p.waiters.add(done);
        }
        if (queue) {
            dirty.add(cidr);
        }
        return done;
    }

    private void runWriter() {
        while (running) {
            String cidr;
            try {
                cidr = dirty.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (cidr == null) {
                continue;
            }
            writeWithRetries(cidr);
        }
    }

    private void writeWithRetries(String cidr) {
        long backoff = 100;
        while (running) {
            Reservation desired;
            String object;
            long version;
            synchronized (pending) {
                Pending p = pending.get(cidr);
                if (p == null) {
                    return;
                }
                desired = p.desired;
                object = p.object;
                version = p.version;
            }
            try {
                write(cidr, desired, object);
                List<CompletableFuture<Void>> done = null;
                synchronized (pending) {
                    Pending p = pending.get(cidr);
                    if (p != null && p.version == version) {
                        pending.remove(cidr);
                        done = p.waiters;
                    }
                }
                if (done != null) {
                    done.forEach(w -> w.complete(null));
                    return;
                }
                backoff = 100; // changed meanwhile: write the newer state
            } catch (KubernetesClientException e) {
                if (ObjectWriter.rejected(e)) {
                    fail(cidr, version, e);
                    return;
                }
                backoff = retryLater(cidr, backoff, e);
            } catch (RuntimeException e) {
                backoff = retryLater(cidr, backoff, e);
            }
        }
    }

    private long retryLater(String cidr, long backoff, RuntimeException e) {
        metrics.writeFailure("reservedips");
        LOG.warn("writing the ReservedIP of {} failed (retrying in {} ms): {}", cidr, backoff, e.getMessage());
        try {
            Thread.sleep(backoff);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            running = false;
        }
        return Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
    }

    private void fail(String cidr, long version, KubernetesClientException e) {
        metrics.writeFailure("reservedips");
        LOG.error("the API server refused the ReservedIP of {} (the address stays parked; the leader repairs its"
                + " metadata): {}", cidr, Failures.describe(e));
        List<CompletableFuture<Void>> failed = List.of();
        boolean changedMeanwhile = false;
        synchronized (pending) {
            Pending p = pending.get(cidr);
            if (p != null && p.version == version) {
                pending.remove(cidr);
                failed = p.waiters;
            } else {
                changedMeanwhile = p != null;
            }
        }
        failed.forEach(w -> w.completeExceptionally(e));
        if (changedMeanwhile) {
            // a newer change arrived while the refused one was sent: it gets its own attempt
            dirty.add(cidr);
        }
    }

    /** One write towards the desired state; returns normally once the API server holds it. */
    private void write(String cidr, Reservation desired, String object) {
        Stored held = stored.get(cidr);
        GenericKubernetesResource known = held == null ? null : held.resource();
        Resource<GenericKubernetesResource> resource = resources().withName(ReservedIps.name(cidr));
        long start = System.nanoTime();
        if (desired == null) {
            if (known != null) {
                try {
                    // only the version this replica saw: a newer entry (the address parked again for another pod
                    // by another replica) must not go with it
                    resource.lockResourceVersion(known.getMetadata().getResourceVersion()).delete();
                } catch (KubernetesClientException e) {
                    if (e.getCode() != 409) {
                        throw e;
                    }
                    GenericKubernetesResource fresh = resource.get();
                    Reservation now = fresh == null ? null : ReservedIps.from(fresh);
                    if (now != null && sameReservation(now, held.entry())) {
                        remember(fresh);
                        throw e; // the same reservation, changed meanwhile (a gone time): delete that version
                    }
                    // gone already, or the entry of another reservation now: nothing of ours to delete
                    if (fresh != null) {
                        remember(fresh);
                    } else {
                        stored.remove(cidr, held);
                    }
                    return;
                }
                stored.remove(cidr, held);
                metrics.metadataWrite(System.nanoTime() - start);
            }
            return;
        }
        if (known != null && Objects.equals(known.getAdditionalProperties().get("spec"),
                ReservedIps.spec(desired, object))) {
            return;
        }
        GenericKubernetesResource wanted = ReservedIps.toResource(desired, namespace, set, object);
        GenericKubernetesResource written;
        if (known == null) {
            try {
                written = resources().resource(wanted).create();
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    throw e;
                }
                // someone else stored an entry for the address meanwhile: another replica parking the same pod
                // (keep the earlier times), or the leader's repair (ours knows the pod)
                written = replaceOrMerge(resource, desired, object, wanted);
            }
        } else {
            written = patch(resource, known, desired, object, wanted);
        }
        metrics.metadataWrite(System.nanoTime() - start);
        remember(written);
    }

    private GenericKubernetesResource replaceOrMerge(Resource<GenericKubernetesResource> resource, Reservation desired,
                                                     String object, GenericKubernetesResource wanted) {
        GenericKubernetesResource current = resource.get();
        Reservation theirs = current == null ? null : ReservedIps.from(current);
        if (repairOf(desired, theirs)) {
            // the leader's repair met the entry of the replica that parked the address: that one knows the pod,
            // its gone time and its time to live, and wins
            return current;
        }
        if (theirs == null || !theirs.uid().equals(desired.uid()) || desired.uid().isEmpty()) {
            return replace(resource, wanted);
        }
        Reservation merged = merge(theirs, desired);
        if (merged.equals(theirs)) {
            return current;
        }
        GenericKubernetesResource update = ReservedIps.toResource(merged, namespace, set, object);
        update.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
        return resources().resource(update).update();
    }

    /** A repair entry (no pod known) never replaces an entry that names its pod. */
    static boolean repairOf(Reservation desired, Reservation existing) {
        return desired.uid().isEmpty() && ReservationReason.REPAIRED.equals(desired.reason())
                && existing != null && !existing.uid().isEmpty();
    }

    private static boolean sameReservation(Reservation a, Reservation b) {
        return b != null && a.uid().equals(b.uid()) && a.reservedAt().equals(b.reservedAt());
    }

    /**
     * Two entries for the same pod (its DELETE on one replica, the backstop on another): the one reserved first
     * describes the reservation, and the earliest gone time counts.
     */
    static Reservation merge(Reservation a, Reservation b) {
        Reservation first = b.reservedAt().isBefore(a.reservedAt()) ? b : a;
        return first.withGoneAt(earliest(a.goneAt(), b.goneAt()));
    }

    private static Instant earliest(Instant a, Instant b) {
        return a == null ? b : b == null ? a : a.isBefore(b) ? a : b;
    }

    private GenericKubernetesResource replace(Resource<GenericKubernetesResource> resource,
                                              GenericKubernetesResource wanted) {
        GenericKubernetesResource current = resource.get();
        if (current == null) {
            return resources().resource(wanted).create();
        }
        wanted.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
        return resources().resource(wanted).update();
    }

    /**
     * The same pod's entry changed (a gone time, mostly): a merge patch of the spec, which never conflicts with
     * anyone. An entry of another pod is replaced as a whole, so that nothing of the old one (its gone time) stays.
     */
    private GenericKubernetesResource patch(Resource<GenericKubernetesResource> resource, GenericKubernetesResource known,
                                            Reservation desired, String object, GenericKubernetesResource wanted) {
        Reservation current = ReservedIps.from(known);
        if (repairOf(desired, current)) {
            return known;
        }
        if (current != null && current.uid().equals(desired.uid()) && !desired.uid().isEmpty()) {
            desired = merge(current, desired);
            if (desired.equals(current)) {
                return known;
            }
            wanted = ReservedIps.toResource(desired, namespace, set, object);
        }
        try {
            if (current == null || !current.uid().equals(desired.uid())
                    || (current.goneAt() != null && desired.goneAt() == null)
                    || !Objects.equals(current.ttl(), desired.ttl())) {
                return replace(resource, wanted);
            }
            String body = client.getKubernetesSerialization().asJson(Map.of("spec", ReservedIps.spec(desired, object)));
            return resource.patch(PatchContext.of(PatchType.JSON_MERGE), body);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                stored.computeIfPresent(desired.cidr(), (k, v) -> v.resource() == known ? null : v);
                return resources().resource(wanted).create();
            }
            throw e;
        }
    }

    private void remember(GenericKubernetesResource written) {
        observe(written);
    }

    private void observe(GenericKubernetesResource obj) {
        Reservation r = ReservedIps.from(obj);
        if (r == null || !ReservedIps.name(r.cidr()).equals(obj.getMetadata().getName())) {
            return;
        }
        stored.compute(r.cidr(), (cidr, known) -> known != null && ObjectStates.olderThan(
                obj.getMetadata().getResourceVersion(), known.resource().getMetadata().getResourceVersion())
                ? known : new Stored(obj, r));
    }

    private static boolean sameName(GenericKubernetesResource a, GenericKubernetesResource b) {
        return a.getMetadata().getName().equals(b.getMetadata().getName());
    }

    /** Every stored entry (for repair): CIDR → entry. */
    Collection<String> storedCidrs() {
        return List.copyOf(stored.keySet());
    }

    private NonNamespaceOperation<GenericKubernetesResource, GenericKubernetesResourceList,
            Resource<GenericKubernetesResource>> resources() {
        return client.genericKubernetesResources(ReservedIps.context()).inNamespace(namespace);
    }
}
