package io.capo.informers;

import io.capo.reservation.PodFacts;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodStatus;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Reads the facts Capo needs from a Kubernetes pod. */
public final class PodFactsMapper {

    private PodFactsMapper() {
    }

    public static PodFacts from(Pod pod) {
        PodStatus status = pod.getStatus() == null ? new PodStatus() : pod.getStatus();
        List<String> ips = new ArrayList<>();
        if (status.getPodIPs() != null) {
            for (PodIP ip : status.getPodIPs()) {
                if (ip.getIp() != null && !ips.contains(ip.getIp())) {
                    ips.add(ip.getIp());
                }
            }
        }
        if (status.getPodIP() != null && !status.getPodIP().isBlank() && !ips.contains(status.getPodIP())) {
            ips.add(0, status.getPodIP());
        }
        if (Boolean.TRUE.equals(pod.getSpec() == null ? null : pod.getSpec().getHostNetwork())) {
            // a host-network pod uses the node's address, which is not Calico's to hand out
            ips.clear();
        }
        String deletion = pod.getMetadata().getDeletionTimestamp();
        return new PodFacts(pod.getMetadata().getNamespace(), pod.getMetadata().getName(),
                pod.getMetadata().getUid(), pod.getSpec() == null ? null : pod.getSpec().getNodeName(),
                pod.getMetadata().getLabels(), pod.getMetadata().getAnnotations(), ips, status.getPhase(),
                status.getReason(), deletion != null, containersGone(status),
                deletion == null ? null : Instant.parse(deletion), endedAt(status));
    }

    static Instant endedAt(PodStatus status) {
        Instant latest = null;
        if (status.getContainerStatuses() != null) {
            for (ContainerStatus s : status.getContainerStatuses()) {
                String finished = s.getState() == null || s.getState().getTerminated() == null ? null
                        : s.getState().getTerminated().getFinishedAt();
                if (finished != null) {
                    Instant at = Instant.parse(finished);
                    latest = latest == null || at.isAfter(latest) ? at : latest;
                }
            }
        }
        return latest;
    }

    /** True when the pod had containers and none of them is running or waiting to run any more. */
    static boolean containersGone(PodStatus status) {
        List<ContainerStatus> statuses = status.getContainerStatuses();
        if (statuses == null || statuses.isEmpty()) {
            return false;
        }
        for (ContainerStatus s : statuses) {
            if (s.getState() == null || s.getState().getTerminated() == null) {
                return false;
            }
        }
        return true;
    }
}
