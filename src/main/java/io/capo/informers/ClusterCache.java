package io.capo.informers;

import io.capo.informers.CompactObjects.CachedNamespace;
import io.capo.informers.CompactObjects.CachedNode;
import io.capo.informers.CompactObjects.CachedPod;
import io.capo.logging.Failures;
import io.capo.reservation.ClusterView;
import io.capo.reservation.NamespaceFacts;
import io.capo.reservation.PodEvent;
import io.capo.reservation.PodFacts;
import io.capo.reservation.SelectionPolicy;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ExceptionHandler;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Informer caches of what Capo watches over: all namespaces (name, labels, deletion state), the pods of the
 * opted-in namespaces only (one informer per namespace, started when the namespace gains the opt-in label and
 * stopped when it loses it or is deleted), and node names. Every informer lists in pages and keeps compact records
 * ({@link CompactObjects}), so memory and start-up traffic follow the pods of opted-in namespaces, not the cluster.
 * Informers re-list after a disconnect or a {@code 410 Gone}, which the plain watch consumers of camel-kubernetes
 * 4.18 do not; their events feed the backstop route through {@link #onPodEvent} and {@link #onNodeDeleted}.
 */
public final class ClusterCache implements ClusterView, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterCache.class);
    private static final String NODE_INDEX = "node";
    /** Objects per LIST page: a start or re-list never holds more than one page of full objects. */
    static final long PAGE_SIZE = 500;

    private final KubernetesClient client;
    private final long resyncMillis;
    private final Supplier<SelectionPolicy> selection;
    private final List<Consumer<PodEvent>> podListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<String>> nodeListeners = new CopyOnWriteArrayList<>();
    private final Map<String, PodInformer> podInformers = new ConcurrentHashMap<>();
    private final CompactStore<Namespace, CachedNamespace> namespaceStore =
            new CompactStore<>(CompactObjects::namespace, CompactObjects::toNamespace);
    private SharedIndexInformer<Namespace> namespaces;
    private SharedIndexInformer<Node> nodes;
    /** Set once the namespaces are listed and the pod informers of the opted-in ones were started. */
    private volatile boolean namespacesReconciled;
    /** The namespaces whose pods were watched when the namespaces were first listed: readiness waits for these only. */
    private volatile Set<String> initialNamespaces;
    /** Latched: once the initial sync completed, informers started later never take readiness back. */
    private volatile boolean ready;
    private volatile boolean closed;

    /** The pod informer of one namespace and the store it reads from. */
    private record PodInformer(SharedIndexInformer<Pod> informer, CompactStore<Pod, CachedPod> store) {
    }

    public ClusterCache(KubernetesClient client, long resyncMillis, Supplier<SelectionPolicy> selection) {
        this.client = client;
        this.resyncMillis = resyncMillis;
        this.selection = selection;
    }

    public void onPodEvent(Consumer<PodEvent> listener) {
        podListeners.add(listener);
    }

    public void onNodeDeleted(Consumer<String> listener) {
        nodeListeners.add(listener);
    }

    public void start() {
        namespaces = client.namespaces().withLimit(PAGE_SIZE).runnableInformer(resyncMillis);
        namespaces.itemStore(namespaceStore).removeNamespaceIndex().exceptionHandler(retrying("namespaces"));
        namespaces.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Namespace ns) {
                reconcile(ns.getMetadata().getName());
            }

            @Override
            public void onUpdate(Namespace before, Namespace after) {
                reconcile(after.getMetadata().getName());
            }

            @Override
            public void onDelete(Namespace ns, boolean deletedFinalStateUnknown) {
                reconcile(ns.getMetadata().getName());
            }
        });
        namespaces.start().thenRun(this::reconcileAll);

        nodes = client.nodes().withLimit(PAGE_SIZE).runnableInformer(resyncMillis);
        nodes.itemStore(new CompactStore<>(CompactObjects::node, CompactObjects::toNode)).removeNamespaceIndex()
                .exceptionHandler(retrying("nodes"));
        nodes.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Node node) {
            }

            @Override
            public void onUpdate(Node before, Node after) {
            }

            @Override
            public void onDelete(Node node, boolean deletedFinalStateUnknown) {
                String name = node.getMetadata().getName();
                for (Consumer<String> listener : nodeListeners) {
                    try {
                        listener.accept(name);
                    } catch (RuntimeException e) {
                        LOG.error("handling deletion of node {} failed: {}", name, e.toString(), e);
                    }
                }
            }
        });
        nodes.start();
    }

    /** The opt-in label may have changed (config reload): start and stop pod informers to match. */
    public void optInChanged() {
        if (namespaces != null && namespaces.hasSynced()) {
            reconcileAll();
        }
    }

    private synchronized void reconcileAll() {
        Set<String> names = ConcurrentHashMap.newKeySet();
        namespaceStore.records().forEach(ns -> names.add(ns.facts().name()));
        names.addAll(podInformers.keySet());
        names.forEach(this::reconcile);
        if (initialNamespaces == null) {
            initialNamespaces = Set.copyOf(podInformers.keySet());
        }
        namespacesReconciled = true;
    }

    /** Watches the pods of {@code name} exactly while the namespace exists and carries the opt-in label. */
    private synchronized void reconcile(String name) {
        if (closed) {
            return;
        }
        CachedNamespace ns = namespaceStore.record(name);
        boolean wanted = ns != null && optedIn(ns.facts());
        PodInformer running = podInformers.get(name);
        if (wanted && running == null) {
            podInformers.put(name, startPodInformer(name));
            LOG.info("namespace {} is opted in: watching its pods", name);
        } else if (!wanted && running != null) {
            podInformers.remove(name);
            running.informer().close();
            LOG.info("namespace {} is {}: no longer watching its pods", name, ns == null ? "gone" : "not opted in");
        }
    }

    private boolean optedIn(NamespaceFacts ns) {
        SelectionPolicy policy = selection.get();
        return Objects.equals(policy.namespaceLabelValue(), ns.labels().get(policy.namespaceLabelKey()));
    }

    private PodInformer startPodInformer(String namespace) {
        CompactStore<Pod, CachedPod> store = new CompactStore<>(CompactObjects::pod, CompactObjects::toPod);
        SharedIndexInformer<Pod> informer = client.pods().inNamespace(namespace).withLimit(PAGE_SIZE)
                .runnableInformer(resyncMillis);
        informer.itemStore(store).removeNamespaceIndex().exceptionHandler(retrying("the pods of namespace " + namespace));
        informer.addIndexers(Map.of(NODE_INDEX, pod -> pod.getSpec() == null || pod.getSpec().getNodeName() == null
                ? List.of() : List.of(pod.getSpec().getNodeName())));
        informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                publish(new PodEvent(PodEvent.ADDED, null, PodFactsMapper.from(pod)));
            }

            @Override
            public void onUpdate(Pod before, Pod after) {
                if (!before.getMetadata().getResourceVersion().equals(after.getMetadata().getResourceVersion())) {
                    publish(new PodEvent(PodEvent.MODIFIED, PodFactsMapper.from(before), PodFactsMapper.from(after)));
                }
            }

            @Override
            public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
                publish(new PodEvent(PodEvent.DELETED, null, PodFactsMapper.from(pod)));
            }
        });
        informer.start();
        return new PodInformer(informer, store);
    }

    /**
     * fabric8 informers give up after a failed first list by default: such an informer would never sync. Every
     * informer here keeps retrying (with fabric8's backoff) until the cache is closed or the informer stopped.
     */
    private ExceptionHandler retrying(String what) {
        return (started, error) -> {
            if (closed) {
                return false;
            }
            LOG.warn("{} {} failed ({}); retrying", started ? "watching" : "listing", what, Failures.describe(error));
            return true;
        };
    }

    private void publish(PodEvent event) {
        for (Consumer<PodEvent> listener : podListeners) {
            try {
                listener.accept(event);
            } catch (RuntimeException e) {
                LOG.error("handling {} of pod {} failed: {}", event.type(), event.pod().key(), e.toString(), e);
            }
        }
    }

    /**
     * Namespaces, nodes and the pods of every opted-in namespace are listed, including namespaces opted in a moment
     * ago. Not for readiness (see {@link #ready()}): a namespace opted in would take every replica out at once.
     */
    @Override
    public boolean synced() {
        if (!namespacesListed()) {
            return false;
        }
        for (PodInformer pods : podInformers.values()) {
            if (!pods.informer().hasSynced()) {
                return false;
            }
        }
        return true;
    }

    /**
     * The initial sync completed: namespaces, nodes and the pods of the namespaces opted in at start are listed.
     * Once true it stays true: the informer of a namespace opted in later lists while the replica keeps serving,
     * and {@link #podsSynced(String)} tells whether that namespace's pods are known yet.
     */
    public boolean ready() {
        if (ready) {
            return true;
        }
        if (!namespacesListed()) {
            return false;
        }
        for (String namespace : initialNamespaces) {
            PodInformer pods = podInformers.get(namespace);
            if (pods != null && !pods.informer().hasSynced()) {
                return false;
            }
        }
        ready = true;
        return true;
    }

    /** Whether the pods of {@code namespace} are watched and listed: only then does a miss mean the pod is absent. */
    @Override
    public boolean podsSynced(String namespace) {
        if (!namespacesListed()) {
            return false;
        }
        PodInformer pods = podInformers.get(namespace);
        return pods != null && pods.informer().hasSynced();
    }

    private boolean namespacesListed() {
        if (namespaces == null || !namespaces.hasSynced() || !nodes.hasSynced()) {
            return false;
        }
        if (!namespacesReconciled) {
            reconcileAll();
        }
        return true;
    }

    /** Only pods of opted-in namespaces are known. */
    @Override
    public Optional<PodFacts> pod(String namespace, String name) {
        PodInformer pods = podInformers.get(namespace);
        CachedPod cached = pods == null ? null : pods.store().record(Cache.namespaceKeyFunc(namespace, name));
        return Optional.ofNullable(cached).map(CachedPod::facts);
    }

    @Override
    public Optional<NamespaceFacts> namespace(String name) {
        return Optional.ofNullable(namespaceStore.record(name)).map(CachedNamespace::facts);
    }

    /** The known pods on {@code node}, across every opted-in namespace. */
    @Override
    public List<PodFacts> podsOnNode(String node) {
        List<PodFacts> found = new ArrayList<>();
        for (PodInformer pods : podInformers.values()) {
            for (String key : pods.informer().getIndexer().indexKeys(NODE_INDEX, node)) {
                CachedPod cached = pods.store().record(key);
                if (cached != null) {
                    found.add(cached.facts());
                }
            }
        }
        return found;
    }

    /** Namespaces whose pods are watched. */
    public Set<String> watchedNamespaces() {
        return Set.copyOf(podInformers.keySet());
    }

    /** Pods cached, over every watched namespace. */
    public int cachedPods() {
        return podInformers.values().stream().mapToInt(p -> p.store().size()).sum();
    }

    @Override
    public synchronized void close() {
        closed = true;
        podInformers.values().forEach(p -> p.informer().close());
        podInformers.clear();
        for (SharedIndexInformer<?> informer : new SharedIndexInformer<?>[]{namespaces, nodes}) {
            if (informer != null) {
                informer.close();
            }
        }
    }
}
