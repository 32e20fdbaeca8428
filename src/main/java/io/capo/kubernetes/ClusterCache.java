package io.capo.kubernetes;

import io.capo.reservation.ClusterView;
import io.capo.reservation.NamespaceFacts;
import io.capo.reservation.PodEvent;
import io.capo.reservation.PodFacts;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Informer caches of pods, namespaces and nodes. Informers re-list after a disconnect or a
 * {@code 410 Gone}, which the plain watch consumers of camel-kubernetes 4.18 do not; their events feed the
 * backstop route through {@link #onPodEvent} and {@link #onNodeDeleted}.
 */
public final class ClusterCache implements ClusterView, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterCache.class);
    private static final String NODE_INDEX = "node";

    private final KubernetesClient client;
    private final long resyncMillis;
    private final List<Consumer<PodEvent>> podListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<String>> nodeListeners = new CopyOnWriteArrayList<>();
    private SharedIndexInformer<Pod> pods;
    private SharedIndexInformer<Namespace> namespaces;
    private SharedIndexInformer<Node> nodes;

    public ClusterCache(KubernetesClient client, long resyncMillis) {
        this.client = client;
        this.resyncMillis = resyncMillis;
    }

    public void onPodEvent(Consumer<PodEvent> listener) {
        podListeners.add(listener);
    }

    public void onNodeDeleted(Consumer<String> listener) {
        nodeListeners.add(listener);
    }

    public void start() {
        namespaces = client.namespaces().runnableInformer(resyncMillis);
        namespaces.start();
        pods = client.pods().inAnyNamespace().runnableInformer(resyncMillis);
        pods.addIndexers(Map.of(NODE_INDEX, pod -> pod.getSpec() == null || pod.getSpec().getNodeName() == null
                ? List.of() : List.of(pod.getSpec().getNodeName())));
        pods.addEventHandler(new ResourceEventHandler<>() {
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
        pods.start();
        nodes = client.nodes().runnableInformer(resyncMillis);
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

    private void publish(PodEvent event) {
        for (Consumer<PodEvent> listener : podListeners) {
            try {
                listener.accept(event);
            } catch (RuntimeException e) {
                LOG.error("handling {} of pod {} failed: {}", event.type(), event.pod().key(), e.toString(), e);
            }
        }
    }

    @Override
    public boolean synced() {
        return pods != null && pods.hasSynced() && namespaces.hasSynced() && nodes.hasSynced();
    }

    @Override
    public Optional<PodFacts> pod(String namespace, String name) {
        Pod pod = pods == null ? null : pods.getStore().getByKey(Cache.namespaceKeyFunc(namespace, name));
        return Optional.ofNullable(pod).map(PodFactsMapper::from);
    }

    @Override
    public Optional<NamespaceFacts> namespace(String name) {
        Namespace ns = namespaces == null ? null : namespaces.getStore().getByKey(name);
        return Optional.ofNullable(ns).map(n -> new NamespaceFacts(name, n.getMetadata().getLabels(),
                n.getMetadata().getDeletionTimestamp() != null
                        || (n.getStatus() != null && "Terminating".equals(n.getStatus().getPhase()))));
    }

    @Override
    public List<PodFacts> podsOnNode(String node) {
        if (pods == null) {
            return List.of();
        }
        return pods.getIndexer().byIndex(NODE_INDEX, node).stream().map(PodFactsMapper::from).toList();
    }

    @Override
    public void close() {
        for (SharedIndexInformer<?> informer : new SharedIndexInformer<?>[]{pods, namespaces, nodes}) {
            if (informer != null) {
                informer.close();
            }
        }
    }
}
