package io.capo.calico;

import io.capo.reservation.Cidrs;
import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationChange;
import io.capo.reservation.ReservationLedger;
import io.capo.reservation.ReservationReason;
import io.capo.reservation.ReservationRequest;
import io.capo.reservation.ReserveResult;
import io.fabric8.kubernetes.client.KubernetesClient;
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

    private final List<String> names;
    private final ObjectStates objects;
    private final Map<String, ObjectWriter> writers = new LinkedHashMap<>();
    private final MetadataStore metadata;
    private final Overdue missingMetadata;
    private final Overdue orphanedMetadata;

    /**
     * @param namespace       Capo's namespace, where the ReservedIP objects live
     * @param baseName        name of the first object ({@code ip-reserve-delay-release}); further ones get
     *                        {@code -1}, {@code -2}, … appended
     * @param objectCount     how many objects to spread entries over
     * @param maxEntriesPerObject entries above this are refused (Calico scans every object on every assignment)
     * @param repairGrace     how long a CIDR may lack its metadata (or metadata its CIDR) before the leader repairs
     *                        it: the metadata of a burst is written after its CIDRs, by whichever replica took it
     */
    public CalicoReservationStore(KubernetesClient client, CalicoApi api, String namespace, String baseName,
                                  int objectCount, int maxEntriesPerObject, Duration repairGrace, StoreMetrics metrics) {
        List<String> list = new ArrayList<>();
        for (int i = 0; i < objectCount; i++) {
            list.add(i == 0 ? baseName : baseName + "-" + i);
        }
        this.names = List.copyOf(list);
        this.objects = new ObjectStates(client, api, names);
        for (String name : names) {
            writers.put(name, new ObjectWriter(name, this.objects, maxEntriesPerObject, metrics));
        }
        this.metadata = new MetadataStore(client, namespace, baseName, METADATA_WRITERS, metrics);
        this.missingMetadata = new Overdue(repairGrace);
        this.orphanedMetadata = new Overdue(repairGrace);
    }

    public List<String> objectNames() {
        return names;
    }

    public CalicoApi api() {
        return objects.api();
    }

    /** Starts the informers and the writers. */
    public void start() {
        objects.start();
        metadata.start();
        writers.values().forEach(ObjectWriter::start);
    }

    @Override
    public void close() {
        writers.values().forEach(ObjectWriter::close);
        metadata.close();
        objects.close();
    }

    @Override
    public boolean synced() {
        return objects.synced() && metadata.synced();
    }

    @Override
    public CompletableFuture<ReserveResult> reserve(ReservationRequest request) {
        ReserveResult known = ReserveResult.NOTHING;
        Map<String, List<Reservation>> byObject = new LinkedHashMap<>();
        for (String cidr : request.cidrs()) {
            Reservation entry = request.entry(cidr);
            String holder = objects.objectContaining(cidr);
            Reservation existing = holder == null ? null : metadata.entry(cidr);
            ReservationChange change = ReservationChange.of(holder != null, existing, entry);
            if (change == ReservationChange.NEW) {
                byObject.computeIfAbsent(objects.objectFor(cidr), k -> new ArrayList<>()).add(entry);
                continue;
            }
            // the address is parked already: at most its metadata changes. Metadata is written by whoever parked
            // the address (or, if it crashed before, by the leader's repair): another replica seeing the pod go
            // meanwhile must not race it with an entry of its own
            Reservation stored = change.stored(existing, entry);
            if (stored != null) {
                metadata.put(stored, holder);
            }
            known = known.plus(change.counted());
        }
        List<CompletableFuture<ReserveResult>> parts = new ArrayList<>();
        parts.add(CompletableFuture.completedFuture(known));
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
    public CompletableFuture<Integer> apply(Collection<Reservation> releases, Collection<Reservation> markGone) {
        Map<String, List<Reservation>> releaseByObject = new LinkedHashMap<>();
        for (Reservation r : releases) {
            Reservation current = metadata.entry(r.cidr());
            String holder = objects.objectContaining(r.cidr());
            if (holder != null && current != null && current.uid().equals(r.uid())
                    && current.reservedAt().equals(r.reservedAt())) {
                releaseByObject.computeIfAbsent(holder, k -> new ArrayList<>()).add(current);
            }
        }
        for (Reservation r : markGone) {
            Reservation current = metadata.entry(r.cidr());
            if (current != null && current.uid().equals(r.uid()) && current.goneAt() == null) {
                metadata.put(current.withGoneAt(r.goneAt()), objects.objectFor(r.cidr()));
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
            Snapshot snapshot = objects.snapshot(name);
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
            Snapshot snapshot = objects.snapshot(name);
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
        return objects.objectContaining(cidr) == null ? Optional.empty() : Optional.ofNullable(metadata.entry(cidr));
    }

    /** Addresses parked in the objects (with or without metadata). */
    public int heldCount() {
        return objects.heldCount();
    }


    /** Package-private for tests: the per-object state the writers keep current. */
    ObjectStates objects() {
        return objects;
    }
}
