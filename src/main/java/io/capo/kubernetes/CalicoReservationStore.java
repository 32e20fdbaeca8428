package io.capo.kubernetes;

import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationLedger;
import io.capo.reservation.ReservationRequest;
import io.capo.reservation.ReserveResult;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The reservation ledger over a small, fixed set of Calico IPReservation objects.
 *
 * <p>Every change goes through one writer per object ({@link ObjectWriter}), which folds whatever is queued
 * into a single {@code resourceVersion}-guarded update: hundreds of concurrent deletions cost a handful of
 * writes, and a conflict with another replica costs one re-read, never a refused deletion. An informer keeps
 * the last seen state of each object so that repeated admission calls are answered without any write.
 */
public final class CalicoReservationStore implements ReservationLedger, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CalicoReservationStore.class);

    private final KubernetesClient client;
    private final CalicoApi api;
    private final List<String> names;
    private final Map<String, ObjectWriter> writers = new LinkedHashMap<>();
    private final Map<String, Snapshot> snapshots = new ConcurrentHashMap<>();
    /** Per object: versions this replica wrote and versions the informer saw (to tell whether others write too). */
    private final Map<String, Versions> versions = new ConcurrentHashMap<>();
    private SharedIndexInformer<GenericKubernetesResource> informer;

    record Snapshot(GenericKubernetesResource resource, ReservationObject view) {
    }

    /**
     * @param baseName        name of the first object ({@code ip-reserve-delay-release}); further ones get
     *                        {@code -1}, {@code -2}, … appended
     * @param objects         how many objects to spread entries over
     * @param maxEntriesPerObject entries above this are refused, keeping each object well inside Kubernetes'
     *                        256 KiB annotation limit
     */
    public CalicoReservationStore(KubernetesClient client, CalicoApi api, String baseName, int objects,
                                  int maxEntriesPerObject, StoreMetrics metrics) {
        this.client = client;
        this.api = api;
        List<String> list = new ArrayList<>();
        for (int i = 0; i < objects; i++) {
            list.add(i == 0 ? baseName : baseName + "-" + i);
        }
        this.names = List.copyOf(list);
        for (String name : names) {
            writers.put(name, new ObjectWriter(name, this, maxEntriesPerObject, metrics));
        }
    }

    public List<String> objectNames() {
        return names;
    }

    public CalicoApi api() {
        return api;
    }

    /** Starts the informer (waits for its first list) and the writers. */
    public void start() {
        informer = resources().runnableInformer(0);
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
                if (obj.getMetadata() != null && names.contains(obj.getMetadata().getName())) {
                    snapshots.remove(obj.getMetadata().getName());
                }
            }
        });
        informer.start();
        writers.values().forEach(ObjectWriter::start);
    }

    @Override
    public void close() {
        writers.values().forEach(ObjectWriter::close);
        if (informer != null) {
            informer.close();
        }
    }

    @Override
    public boolean synced() {
        return informer != null && informer.hasSynced();
    }

    @Override
    public CompletableFuture<ReserveResult> reserve(ReservationRequest request) {
        int unchanged = 0;
        Map<String, List<Reservation>> byObject = new LinkedHashMap<>();
        for (String cidr : request.cidrs()) {
            Reservation entry = request.entry(cidr);
            Reservation existing = find(cidr).orElse(null);
            if (existing != null && existing.uid().equals(entry.uid())
                    && (entry.goneAt() == null || existing.goneAt() != null)) {
                unchanged++;
                continue;
            }
            byObject.computeIfAbsent(objectHolding(cidr), k -> new ArrayList<>()).add(entry);
        }
        List<CompletableFuture<ReserveResult>> parts = new ArrayList<>();
        parts.add(CompletableFuture.completedFuture(new ReserveResult(0, 0, unchanged)));
        byObject.forEach((name, entries) -> parts.add(writers.get(name).submit(new Operations.Reserve(entries))));
        return Operations.sum(parts, ReserveResult.NOTHING, ReserveResult::plus);
    }

    @Override
    public CompletableFuture<Integer> markGone(String uid, Instant at) {
        List<CompletableFuture<Integer>> parts = new ArrayList<>();
        for (String name : names) {
            Snapshot snapshot = snapshots.get(name);
            boolean pending = snapshot == null || snapshot.view().entries().stream()
                    .anyMatch(r -> r.uid().equals(uid) && r.goneAt() == null);
            if (pending) {
                parts.add(writers.get(name).submit(new Operations.MarkGone(uid, at)));
            }
        }
        return Operations.sum(parts, 0, Integer::sum);
    }

    @Override
    public CompletableFuture<Integer> apply(Collection<Reservation> releases, Collection<Reservation> markGone) {
        Map<String, List<Reservation>> releaseByObject = new LinkedHashMap<>();
        Map<String, List<Reservation>> goneByObject = new LinkedHashMap<>();
        releases.forEach(r -> releaseByObject.computeIfAbsent(objectHolding(r.cidr()), k -> new ArrayList<>()).add(r));
        markGone.forEach(r -> goneByObject.computeIfAbsent(objectHolding(r.cidr()), k -> new ArrayList<>()).add(r));
        List<CompletableFuture<Integer>> parts = new ArrayList<>();
        for (String name : names) {
            List<Reservation> release = releaseByObject.getOrDefault(name, List.of());
            List<Reservation> gone = goneByObject.getOrDefault(name, List.of());
            if (!release.isEmpty() || !gone.isEmpty()) {
                parts.add(writers.get(name).submit(new Operations.Release(release, gone)));
            }
        }
        return Operations.sum(parts, 0, Integer::sum);
    }

    /** Runs a custom change on one object through its writer (used to adopt the Go Capo's object). */
    public CompletableFuture<Integer> change(String name, java.util.function.ToIntFunction<ReservationObject> change) {
        return writers.get(name).submit(new Operations.Custom(change));
    }

    @Override
    public Collection<Reservation> held() {
        List<Reservation> all = new ArrayList<>();
        for (String name : names) {
            Snapshot snapshot = snapshots.get(name);
            if (snapshot != null) {
                all.addAll(snapshot.view().entries());
            }
        }
        return all;
    }

    @Override
    public Optional<Reservation> find(String cidr) {
        for (String name : names) {
            Snapshot snapshot = snapshots.get(name);
            if (snapshot != null) {
                Reservation r = snapshot.view().entry(cidr);
                if (r != null) {
                    return Optional.of(r);
                }
            }
        }
        return Optional.empty();
    }

    public int heldCount() {
        int count = 0;
        for (Snapshot snapshot : snapshots.values()) {
            count += snapshot.view().size();
        }
        return count;
    }

    /** The object an entry lives in, or the one a new entry goes to. */
    String objectHolding(String cidr) {
        for (String name : names) {
            Snapshot snapshot = snapshots.get(name);
            if (snapshot != null && snapshot.view().containsCidr(cidr)) {
                return name;
            }
        }
        return names.get(Math.floorMod(cidr.hashCode(), names.size()));
    }

    NonNamespaceOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> resources() {
        return client.genericKubernetesResources(api.context());
    }

    Snapshot snapshot(String name) {
        return snapshots.get(name);
    }

    /** Reads the object from the API server (null when it does not exist) and remembers it. */
    Snapshot refresh(String name) {
        GenericKubernetesResource fresh = resources().withName(name).get();
        if (fresh == null) {
            snapshots.remove(name);
            return null;
        }
        return remember(fresh);
    }

    Snapshot remember(GenericKubernetesResource resource) {
        return snapshots.compute(resource.getMetadata().getName(), (name, known) -> sameVersion(known, resource)
                ? known : new Snapshot(resource, ReservationObject.from(resource)));
    }

    /** The same resourceVersion is the same content: no need to decode the annotation again (own writes come back). */
    private static boolean sameVersion(Snapshot known, GenericKubernetesResource resource) {
        String version = resource.getMetadata().getResourceVersion();
        return known != null && version != null && version.equals(known.resource().getMetadata().getResourceVersion());
    }

    /** Remembers an object this replica just wrote. */
    Snapshot written(GenericKubernetesResource resource) {
        Long version = version(resource.getMetadata().getResourceVersion());
        if (version != null) {
            versions(resource.getMetadata().getName()).own(version);
        }
        return remember(resource);
    }

    /** Another replica (or anyone else) wrote the object: seen through a conflict. */
    void foreignWrite(String name) {
        versions(name).conflict(System.nanoTime());
    }

    /** Whether another writer changed the object within the window (replicas are competing for it). */
    boolean contended(String name, long windowNanos) {
        Versions v = versions.get(name);
        return v != null && v.foreignWithin(System.nanoTime(), windowNanos);
    }

    private Versions versions(String name) {
        return versions.computeIfAbsent(name, k -> new Versions());
    }

    private static Long version(String resourceVersion) {
        try {
            return resourceVersion == null ? null : Long.parseLong(resourceVersion);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * The last versions written here and seen by the informer. The watch event of an own write may arrive before
     * the write's response, so a seen version counts as foreign only when asked, once own writes are recorded.
     */
    static final class Versions {
        private static final int KEPT = 64;
        private final java.util.ArrayDeque<Long> own = new java.util.ArrayDeque<>();
        private final java.util.ArrayDeque<long[]> seen = new java.util.ArrayDeque<>();
        private long lastConflictNanos = Long.MIN_VALUE;

        synchronized void own(long version) {
            add(own, version);
        }

        synchronized void seen(long version, long nanos) {
            add(seen, new long[]{version, nanos});
        }

        synchronized void conflict(long nanos) {
            lastConflictNanos = nanos;
        }

        synchronized boolean foreignWithin(long now, long window) {
            if (lastConflictNanos != Long.MIN_VALUE && now - lastConflictNanos < window) {
                return true;
            }
            if (own.isEmpty()) {
                // nothing written here yet: nothing to compete for
                return false;
            }
            long oldestOwn = own.peekFirst();
            for (long[] s : seen) {
                if (now - s[1] < window && s[0] > oldestOwn && !own.contains(s[0])) {
                    return true;
                }
            }
            return false;
        }

        private static <T> void add(java.util.ArrayDeque<T> deque, T value) {
            if (deque.size() == KEPT) {
                deque.removeFirst();
            }
            deque.addLast(value);
        }
    }

    private void observe(GenericKubernetesResource obj) {
        if (obj.getMetadata() == null || !names.contains(obj.getMetadata().getName())) {
            return;
        }
        Long seen = version(obj.getMetadata().getResourceVersion());
        if (seen != null) {
            versions(obj.getMetadata().getName()).seen(seen, System.nanoTime());
        }
        snapshots.compute(obj.getMetadata().getName(), (name, known) -> {
            if (known != null && (sameVersion(known, obj) || olderThan(obj.getMetadata().getResourceVersion(),
                    known.resource().getMetadata().getResourceVersion()))) {
                return known;
            }
            return new Snapshot(obj, ReservationObject.from(obj));
        });
    }

    /** resourceVersions are opaque, but etcd's are integers; when both parse, never go back in time. */
    static boolean olderThan(String candidate, String known) {
        try {
            return Long.parseLong(candidate) < Long.parseLong(known);
        } catch (NumberFormatException | NullPointerException e) {
            return false;
        }
    }

    static boolean isConflict(KubernetesClientException e) {
        return e.getCode() == 409;
    }

    static void logWrite(String name, int ops, String resourceVersion, long millis) {
        LOG.debug("wrote IPReservation {} ({} queued changes) at resourceVersion {} in {} ms", name, ops,
                resourceVersion, millis);
    }

    static void forEachQuietly(List<? extends Operations.Op<?>> ops, Consumer<Operations.Op<?>> action) {
        for (Operations.Op<?> op : ops) {
            try {
                action.accept(op);
            } catch (RuntimeException e) {
                LOG.warn("completing a reservation change failed: {}", e.toString());
            }
        }
    }
}
