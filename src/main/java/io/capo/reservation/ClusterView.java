package io.capo.reservation;

import java.util.List;
import java.util.Optional;

/** Read-only view of the cluster from Capo's informer caches: no API call per question. */
public interface ClusterView {

    Optional<PodFacts> pod(String namespace, String name);

    Optional<NamespaceFacts> namespace(String name);

    List<PodFacts> podsOnNode(String node);

    boolean synced();
}
