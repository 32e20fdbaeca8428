package io.capo.reservation;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** A cluster view filled by the test. */
public final class FixedClusterView implements ClusterView {

    public final Map<String, PodFacts> pods = new ConcurrentHashMap<>();
    public final Map<String, NamespaceFacts> namespaces = new ConcurrentHashMap<>();

    public FixedClusterView with(PodFacts pod) {
        pods.put(pod.key(), pod);
        return this;
    }

    public FixedClusterView with(NamespaceFacts namespace) {
        namespaces.put(namespace.name(), namespace);
        return this;
    }

    @Override
    public Optional<PodFacts> pod(String namespace, String name) {
        return Optional.ofNullable(pods.get(namespace + "/" + name));
    }

    @Override
    public Optional<NamespaceFacts> namespace(String name) {
        return Optional.ofNullable(namespaces.get(name));
    }

    @Override
    public List<PodFacts> podsOnNode(String node) {
        return pods.values().stream().filter(p -> p.node().equals(node)).toList();
    }

    @Override
    public boolean synced() {
        return true;
    }

    @Override
    public boolean podsSynced(String namespace) {
        return !unsynced.contains(namespace);
    }

    /** Namespaces whose pods the test says are not listed yet. */
    public final java.util.Set<String> unsynced = ConcurrentHashMap.newKeySet();
}
