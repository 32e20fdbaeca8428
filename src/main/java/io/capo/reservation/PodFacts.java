package io.capo.reservation;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What Capo needs to know about a pod, read once at the edge from the Kubernetes object.
 *
 * @param ips               every pod IP (dual-stack pods have two), as reported in status
 * @param phase             status.phase, empty when unknown
 * @param statusReason      status.reason (e.g. {@code Evicted}), empty when unset
 * @param deletionRequested metadata.deletionTimestamp is set
 * @param containersGone    the pod has no running or waiting container left (its sandbox, and so its
 *                          IP, is being or has been torn down)
 * @param endedAt           when its last container finished, null when unknown or still running
 */
public record PodFacts(String namespace, String name, String uid, String node, Map<String, String> labels,
                       Map<String, String> annotations, List<String> ips, String phase, String statusReason,
                       boolean deletionRequested, boolean containersGone, Instant deletionTimestamp,
                       Instant endedAt) {

    public PodFacts {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        ips = ips == null ? List.of() : List.copyOf(ips);
        node = node == null ? "" : node;
        phase = phase == null ? "" : phase;
        statusReason = statusReason == null ? "" : statusReason;
        uid = uid == null ? "" : uid;
    }

    public boolean terminal() {
        return "Failed".equals(phase) || "Succeeded".equals(phase);
    }

    public String key() {
        return namespace + "/" + name;
    }
}
