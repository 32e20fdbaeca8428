package io.capo.calico;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What this replica knows of each of Capo's IPReservation objects: the last snapshot (from the informer, a read, or
 * an own write, never going back in time) and which versions it wrote itself, to tell whether other replicas write
 * the same object. The store reads it to answer queries; the {@link ObjectWriter}s read and update it around their
 * writes. Neither calls back into the other.
 */
final class ObjectStates implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ObjectStates.class);

    private final KubernetesClient client;
    private final CalicoApi api;
    private final List<String> names;
    private final Map<String, Snapshot> snapshots = new ConcurrentHashMap<>();
    /** Per object: versions this replica wrote and versions the informer saw (to tell whether others write too). */
    private final Map<String, Versions> versions = new ConcurrentHashMap<>();
    private SharedIndexInformer<GenericKubernetesResource> informer;

    ObjectStates(KubernetesClient client, CalicoApi api, List<String> names) {
        this.client = client;
        this.api = api;
        this.names = List.copyOf(names);
    }

    List<String> names() {
        return names;
    }

    CalicoApi api() {
        return api;
    }

    /** Starts the informer that keeps the snapshots current. */
    void start() {
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
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
    }

    boolean synced() {
        return informer != null && informer.hasSynced();
    }

    NonNamespaceOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> resources() {
        return client.genericKubernetesResources(api.context());
    }

    KubernetesSerialization serialization() {
        return client.getKubernetesSerialization();
    }

    /** The last known state of an object, null when it does not exist (or is not known yet). */
    Snapshot snapshot(String name) {
        return snapshots.get(name);
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

    /** Addresses parked in the objects (with or without metadata). */
    int heldCount() {
        int count = 0;
        for (Snapshot snapshot : snapshots.values()) {
            count += snapshot.view().size();
        }
        return count;
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

    private Snapshot remember(GenericKubernetesResource resource) {
        return snapshots.compute(resource.getMetadata().getName(), (name, known) -> sameVersion(known, resource)
                ? known : new Snapshot(resource, ReservationObject.from(resource)));
    }

    /** The same resourceVersion is the same content: no need to decode the annotation again (own writes come back). */
    private static boolean sameVersion(Snapshot known, GenericKubernetesResource resource) {
        String version = resource.getMetadata().getResourceVersion();
        return known != null && version != null && version.equals(known.resourceVersion());
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

    private void observe(GenericKubernetesResource obj) {
        if (obj.getMetadata() == null || !names.contains(obj.getMetadata().getName())) {
            return;
        }
        Long seen = version(obj.getMetadata().getResourceVersion());
        if (seen != null) {
            versions(obj.getMetadata().getName()).seen(seen, System.nanoTime());
        }
        snapshots.compute(obj.getMetadata().getName(), (name, known) -> {
            if (known != null && (sameVersion(known, obj)
                    || olderThan(obj.getMetadata().getResourceVersion(), known.resourceVersion()))) {
                return known;
            }
            return new Snapshot(obj, ReservationObject.from(obj));
        });
    }

    private static Long version(String resourceVersion) {
        try {
            return resourceVersion == null ? null : Long.parseLong(resourceVersion);
        } catch (NumberFormatException e) {
            return null;
        }
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

    /**
     * The last versions written here and seen by the informer. The watch event of an own write may arrive before
     * the write's response, so a seen version counts as foreign only when asked, once own writes are recorded.
     */
    static final class Versions {
        private static final int KEPT = 64;
        private final ArrayDeque<Long> own = new ArrayDeque<>();
        private final ArrayDeque<long[]> seen = new ArrayDeque<>();
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

        private static <T> void add(ArrayDeque<T> deque, T value) {
            if (deque.size() == KEPT) {
                deque.removeFirst();
            }
            deque.addLast(value);
        }
    }
}
