package io.capo.reservation;

import io.capo.reservation.SelectorRequirement;

import java.util.List;

/**
 * Which pods get their IP parked.
 *
 * @param namespaceLabelKey   opt-in label a namespace must carry (with {@code namespaceLabelValue})
 * @param requirements        the pod label selector, matchLabels already turned into {@code In} requirements
 * @param anyOf               true: one matching requirement selects the pod (the Go Capo's semantics);
 *                            false: all must match (Kubernetes semantics)
 */
public record SelectionPolicy(String namespaceLabelKey, String namespaceLabelValue, List<SelectorRequirement> requirements,
                              boolean anyOf) {

    /** Pod annotation that forces opt-in ({@code "true"}) or opt-out ({@code "false"}) whatever the selector says. */
    public static final String RESERVE_ANNOTATION = "capo.io/ip-reserve";
    /** Pod annotation with a per-workload time to live (Go duration, e.g. {@code 2h}). */
    public static final String TTL_ANNOTATION = "capo.io/ip-reserve-time";

    public SelectionPolicy {
        requirements = List.copyOf(requirements);
    }
}
