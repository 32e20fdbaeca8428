package io.capo.reservation;

import java.util.List;
import java.util.Optional;

/** Read-only view of the cluster from Capo's informer caches: no API call per question. */
public interface ClusterView {

    Optional<PodFacts> pod(String namespace, String name);

    Optional<NamespaceFacts> namespace(String name);

    List<PodFacts> podsOnNode(String node);

    /** Every cache is listed, including the pods of namespaces opted in a moment ago. */
    boolean synced();

    /** The pods of {@code namespace} are watched and listed: a pod missing from the view is missing from the cluster. */
    boolean podsSynced(String namespace);
}
