package io.capo.informers;

import io.capo.reservation.NamespaceFacts;
import io.capo.reservation.PodFacts;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodIP;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The compact records Capo's informer caches keep, and the minimal objects rebuilt from them. A pod keeps what
 * {@link PodFactsMapper} reads, minus the annotations that are not Capo's ({@code capo.io/...}); a namespace its
 * labels and deletion state; a node only its name. Rebuilding and mapping again gives the same facts.
 */
final class CompactObjects {

    /** Annotations Capo reads: {@code capo.io/ip-reserve}, {@code capo.io/ip-reserve-time}. */
    static final String CAPO_ANNOTATION_PREFIX = "capo.io/";
    private static final String TERMINATING = "Terminating";

    record CachedPod(PodFacts facts, String resourceVersion) {
    }

    record CachedNamespace(NamespaceFacts facts, String resourceVersion) {
    }

    record CachedNode(String name, String resourceVersion) {
    }

    private CompactObjects() {
    }

    static CachedPod pod(Pod pod) {
        PodFacts f = PodFactsMapper.from(pod);
        Map<String, String> capoAnnotations = new HashMap<>();
        f.annotations().forEach((k, v) -> {
            if (k.startsWith(CAPO_ANNOTATION_PREFIX)) {
                capoAnnotations.put(k.intern(), v);
            }
        });
        // thousands of pods share the same namespace, node and label strings
        PodFacts trimmed = new PodFacts(f.namespace().intern(), f.name(), f.uid(), f.node().intern(),
                interned(f.labels()), capoAnnotations, f.ips(), f.phase().intern(), f.statusReason().intern(),
                f.deletionRequested(), f.containersGone(), f.deletionTimestamp(), f.endedAt());
        return new CachedPod(trimmed, pod.getMetadata().getResourceVersion());
    }

    static Pod toPod(CachedPod cached) {
        PodFacts f = cached.facts();
        List<ContainerStatus> containers = new ArrayList<>();
        if (f.containersGone() || f.endedAt() != null) {
            containers.add(new ContainerStatusBuilder().withName("ended").withNewState().withNewTerminated()
                    .withFinishedAt(f.endedAt() == null ? null : f.endedAt().toString())
                    .endTerminated().endState().build());
        }
        if (!f.containersGone() && f.endedAt() != null) {
            containers.add(new ContainerStatusBuilder().withName("running").withNewState().withNewRunning()
                    .endRunning().endState().build());
        }
        List<PodIP> ips = f.ips().stream().map(PodIP::new).toList();
        return new PodBuilder()
                .withNewMetadata().withNamespace(f.namespace()).withName(f.name()).withUid(f.uid())
                .withResourceVersion(cached.resourceVersion()).withLabels(f.labels())
                .withAnnotations(f.annotations())
                .withDeletionTimestamp(f.deletionTimestamp() == null ? null : f.deletionTimestamp().toString())
                .endMetadata()
                .withNewSpec().withNodeName(f.node().isEmpty() ? null : f.node()).endSpec()
                .withNewStatus().withPhase(f.phase().isEmpty() ? null : f.phase())
                .withReason(f.statusReason().isEmpty() ? null : f.statusReason())
                .withPodIP(ips.isEmpty() ? null : ips.get(0).getIp()).withPodIPs(ips)
                .withContainerStatuses(containers).endStatus()
                .build();
    }

    static CachedNamespace namespace(Namespace ns) {
        boolean terminating = ns.getMetadata().getDeletionTimestamp() != null
                || (ns.getStatus() != null && TERMINATING.equals(ns.getStatus().getPhase()));
        return new CachedNamespace(new NamespaceFacts(ns.getMetadata().getName(), ns.getMetadata().getLabels(),
                terminating), ns.getMetadata().getResourceVersion());
    }

    static Namespace toNamespace(CachedNamespace cached) {
        NamespaceFacts f = cached.facts();
        return new NamespaceBuilder().withNewMetadata().withName(f.name()).withLabels(f.labels())
                .withResourceVersion(cached.resourceVersion()).endMetadata()
                .withNewStatus().withPhase(f.terminating() ? TERMINATING : "Active").endStatus().build();
    }

    static CachedNode node(Node node) {
        return new CachedNode(node.getMetadata().getName(), node.getMetadata().getResourceVersion());
    }

    static Node toNode(CachedNode cached) {
        return new NodeBuilder().withNewMetadata().withName(cached.name())
                .withResourceVersion(cached.resourceVersion()).endMetadata().build();
    }

    private static Map<String, String> interned(Map<String, String> labels) {
        Map<String, String> out = new HashMap<>(labels.size() * 2);
        labels.forEach((k, v) -> out.put(k.intern(), v.intern()));
        return out;
    }
}
