package io.capo.kubernetes;

import io.capo.reservation.Cidrs;
import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationLedger;
import io.capo.reservation.ReservationReason;
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

import java.time.Duration;
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
 * The reservation ledger over a small, fixed set of Calico IPReservation objects (the CIDRs, what Calico reads)
 * and one {@link ReservedIps ReservedIP} per address (the metadata, which Calico never reads).
 *
 * <p>A reservation is complete for the webhook once its CIDR is in the IPReservation: every change to an object goes
 * through one writer per object ({@link ObjectWriter}), which folds whatever is queued into a single
 * {@code resourceVersion}-guarded update of a small object. The metadata is written afterwards, only once the CIDR
 * write landed, by {@link MetadataStore}, off the critical path. A crash between the two writes leaves a CIDR
 * without metadata, which the leader repairs ({@link #repair}), or metadata without its CIDR, which it deletes.
 */
public final class CalicoReservationStore implements ReservationLedger, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CalicoReservationStore.class);
    private static final int METADATA_WRITERS = 4;

    private final KubernetesClient client;
    private final CalicoApi api;
    private final List<String> names;
    private final Map<String, ObjectWriter> writers = new LinkedHashMap<>();
    private final Map<String, Snapshot> snapshots = new ConcurrentHashMap<>();
    /** Per object: versions this replica wrote and versions the informer saw (to tell whether others write too). */
    private final Map<String, Versions> versions = new ConcurrentHashMap<>();
    private final MetadataStore metadata;
    private final Overdue missingMetadata;
    private final Overdue orphanedMetadata;
    private SharedIndexInformer<GenericKubernetesResource> informer;

    record Snapshot(GenericKubernetesResource resource, ReservationObject view) {
    }

    /**
     * @param namespace       Capo's namespace, where the ReservedIP objects live
     * @param baseName        name of the first object ({@code ip-reserve-delay-release}); further ones get
     *                        {@code -1}, {@code -2}, … appended
     * @param objects         how many objects to spread entries over
     * @param maxEntriesPerObject entries above this are refused (Calico scans every object on every assignment)
     * @param repairGrace     how long a CIDR may lack its metadata (or metadata its CIDR) before the leader repairs
     *                        it: the metadata of a burst is written after its CIDRs, by whichever replica took it
     */
    public CalicoReservationStore(KubernetesClient client, CalicoApi api, String namespace, String baseName,
                                  int objects, int maxEntriesPerObject, Duration repairGrace, StoreMetrics metrics) {
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
        this.metadata = new MetadataStore(client, namespace, baseName, METADATA_WRITERS, metrics);
        this.missingMetadata = new Overdue(repairGrace);
        this.orphanedMetadata = new Overdue(repairGrace);
    }

    public List<String> objectNames() {
        return names;
    }

    public CalicoApi api() {
        return api;
    }

    /** Starts the informers and the writers. */
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
        metadata.start();
        writers.values().forEach(ObjectWriter::start);
    }

    @Override
    public void close() {
        writers.values().forEach(ObjectWriter::close);
        metadata.close();
        if (informer != null) {
            informer.close();
        }
    }

    @Override
    public boolean synced() {
        return informer != null && informer.hasSynced() && metadata.synced();
    }

    @Override
    public CompletableFuture<ReserveResult> reserve(ReservationRequest request) {
        int unchanged = 0;
        int updated = 0;
        Map<String, List<Reservation>> byObject = new LinkedHashMap<>();
        for (String cidr : request.cidrs()) {
            Reservation entry = request.entry(cidr);
            String holder = objectContaining(cidr);
            if (holder == null) {
                byObject.computeIfAbsent(objectFor(cidr), k -> new ArrayList<>()).add(entry);
                continue;
            }
            // the address is parked already: at most its metadata changes. Metadata is written by whoever parked
            // the address (or, if it crashed before, by the leader's repair): another replica seeing the pod go
            // meanwhile must not race it with an entry of its own
            Reservation existing = metadata.entry(cidr);
            if (existing == null) {
                unchanged++;
            } else if (!existing.uid().equals(entry.uid())) {
                // the address of an earlier pod, parked again for this one
                metadata.put(entry, holder);
                unchanged++;
            } else if (entry.goneAt() != null && existing.goneAt() == null) {
                metadata.put(existing.withGoneAt(entry.goneAt()), holder);
                updated++;
            } else {
                unchanged++;
            }
        }
        List<CompletableFuture<ReserveResult>> parts = new ArrayList<>();
        parts.add(CompletableFuture.completedFuture(new ReserveResult(0, updated, unchanged)));
        byObject.forEach((name, entries) -> parts.add(writers.get(name)
                .submit(new Operations.Add(entries.stream().map(Reservation::cidr).toList(), admission(request)))
                .thenApply(added -> {
                    // only now that the CIDR is stored: metadata never describes an address that is not parked;
                    // an address another replica parked first gets its metadata from that replica
                    entries.stream().filter(e -> added.contains(e.cidr())).forEach(e -> metadata.put(e, name));
                    return new ReserveResult(added.size(), 0, entries.size() - added.size());
                })));
        return Operations.sum(parts, ReserveResult.NOTHING, ReserveResult::plus);
    }

    /** The metadata side (package-private for tests). */
    MetadataStore metadata() {
        return metadata;
    }

    /** A reservation the webhook waits for (its writes may be appended, see {@link Operations.Add#appendable}). */
    private static boolean admission(ReservationRequest request) {
        return ReservationReason.DELETE.equals(request.reason()) || ReservationReason.EVICTION.equals(request.reason());
    }

    @Override
    public CompletableFuture<Integer> markGone(String uid, Instant at) {
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        for (Reservation r : metadata.entries().values()) {
            if (r.uid().equals(uid) && r.goneAt() == null) {
                parts.add(metadata.put(r.withGoneAt(at), objectFor(r.cidr())));
            }
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(ignored -> parts.size());
    }

    @Override
    public CompletableFuture<Integer> apply(Collection<Reservation> releases, Collection<Reservation> markGone) {
        Map<String, List<Reservation>> releaseByObject = new LinkedHashMap<>();
        for (Reservation r : releases) {
            Reservation current = metadata.entry(r.cidr());
            String holder = objectContaining(r.cidr());
            if (holder != null && current != null && current.uid().equals(r.uid())
                    && current.reservedAt().equals(r.reservedAt())) {
                releaseByObject.computeIfAbsent(holder, k -> new ArrayList<>()).add(current);
            }
        }
        for (Reservation r : markGone) {
            Reservation current = metadata.entry(r.cidr());
            if (current != null && current.uid().equals(r.uid()) && current.goneAt() == null) {
                metadata.put(current.withGoneAt(r.goneAt()), objectFor(r.cidr()));
            }
        }
        List<CompletableFuture<Integer>> parts = new ArrayList<>();
        releaseByObject.forEach((name, released) -> parts.add(writers.get(name)
                .submit(new Operations.Remove(released.stream().map(Reservation::cidr).toList()))
                .thenApply(removed -> {
                    // after the CIDRs are gone: a crash before this leaves metadata the leader deletes later
                    released.forEach(metadata::deleteIf);
                    return removed;
                })));
        return Operations.sum(parts, 0, Integer::sum);
    }

    /**
     * Leader only, each release cycle: gives a CIDR that has lacked metadata for the grace period an entry
     * {@value ReservationReason#REPAIRED} reserved now (so it is held a full time to live from now, never released
     * early), and deletes metadata whose CIDR has been in no object for the grace period (a crash after the release
     * write). Objects still waiting for their migration are left alone. Returns how many entries it changed.
     */
    @Override
    public int repair(Instant now) {
        if (!synced()) {
            return 0;
        }
        Map<String, String> holders = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String name : names) {
            Snapshot snapshot = snapshots.get(name);
            if (snapshot == null) {
                continue;
            }
            for (String cidr : snapshot.view().cidrs()) {
                holders.put(cidr, name);
                // a wider CIDR is not Capo's (one added by hand to the Go Capo's object): never repaired, so never
                // released
                boolean host = Cidrs.tryNormalize(cidr).filter(cidr::equals).isPresent();
                if (host && snapshot.view().current() && metadata.entry(cidr) == null) {
                    missing.add(cidr);
                }
            }
        }
        int changed = 0;
        for (String cidr : missingMetadata.look(missing, now)) {
            LOG.warn("IP {} is parked in IPReservation {} without its ReservedIP (a write was interrupted); "
                    + "holding it a full time to live from now", Cidrs.address(cidr), holders.get(cidr));
            metadata.put(new Reservation(cidr, "", "", "", "", ReservationReason.REPAIRED, now, null, null),
                    holders.get(cidr));
            missingMetadata.forget(cidr);
            changed++;
        }
        List<String> orphans = metadata.storedCidrs().stream()
                .filter(cidr -> !holders.containsKey(cidr) && !metadata.isPending(cidr)).toList();
        for (String cidr : orphanedMetadata.look(orphans, now)) {
            Reservation orphan = metadata.entry(cidr);
            if (orphan != null) {
                LOG.info("deleting the ReservedIP of {}: the address is no longer parked", cidr);
                metadata.deleteIf(orphan);
                changed++;
            }
            orphanedMetadata.forget(cidr);
        }
        return changed;
    }

    /** Runs a custom change on one object through its writer (migration, adoption of the Go Capo's object). */
    public CompletableFuture<Integer> change(String name, java.util.function.ToIntFunction<ReservationObject> change) {
        return writers.get(name).submit(new Operations.Custom(change));
    }

    /** Stores metadata for an address that is in the object already (migration); completes once written. */
    CompletableFuture<Void> putMetadata(Reservation entry, String object) {
        return metadata.put(entry, object);
    }

    Reservation metadata(String cidr) {
        return metadata.entry(cidr);
    }

    /** Capo's entries with their metadata; a parked CIDR whose metadata is missing is held, not listed. */
    @Override
    public Collection<Reservation> held() {
        Map<String, Reservation> entries = metadata.entries();
        List<Reservation> all = new ArrayList<>();
        for (String name : names) {
            Snapshot snapshot = snapshots.get(name);
            if (snapshot != null) {
                for (String cidr : snapshot.view().cidrs()) {
                    Reservation r = entries.get(cidr);
                    if (r != null) {
                        all.add(r);
                    }
                }
            }
        }
        return all;
    }

    @Override
    public Optional<Reservation> find(String cidr) {
        return objectContaining(cidr) == null ? Optional.empty() : Optional.ofNullable(metadata.entry(cidr));
    }

    /** Addresses parked in the objects (with or without metadata). */
    public int heldCount() {
        int count = 0;
        for (Snapshot snapshot : snapshots.values()) {
            count += snapshot.view().size();
        }
        return count;
    }

    /** The object holding the CIDR, null when none does. */
    String objectContaining(String cidr) {
        for (String name : names) {
            Snapshot snapshot = snapshots.get(name);
            if (snapshot != null && snapshot.view().containsCidr(cidr)) {
                return name;
            }
        }
        return null;
    }

    /** The object an entry lives in, or the one a new entry goes to. */
    String objectFor(String cidr) {
        String holder = objectContaining(cidr);
        return holder != null ? holder : names.get(Math.floorMod(cidr.hashCode(), names.size()));
    }

    NonNamespaceOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> resources() {
        return client.genericKubernetesResources(api.context());
    }

    io.fabric8.kubernetes.client.utils.KubernetesSerialization serialization() {
        return client.getKubernetesSerialization();
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
