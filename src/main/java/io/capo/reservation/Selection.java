package io.capo.reservation;

import io.capo.reservation.GoDuration;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Decides whether a pod's IP must be parked: the namespace opted in, the pod matches the selector (or
 * its annotation forces the answer), and it has an address.
 */
public final class Selection {

    /** The answer, with the reason a pod was skipped (for DEBUG logs and tests) and its TTL override. */
    public record Verdict(boolean selected, String why, Duration ttl) {
        static Verdict skip(String why) {
            return new Verdict(false, why, null);
        }
    }

    private Selection() {
    }

    public static Verdict evaluate(SelectionPolicy policy, NamespaceFacts namespace, PodFacts pod) {
        if (namespace == null) {
            return Verdict.skip("namespace unknown");
        }
        if (namespace.terminating()) {
            return Verdict.skip("namespace is being deleted");
        }
        if (!policy.namespaceLabelValue().equals(namespace.labels().get(policy.namespaceLabelKey()))) {
            return Verdict.skip("namespace not labelled " + policy.namespaceLabelKey() + "=" + policy.namespaceLabelValue());
        }
        if (pod.ips().isEmpty()) {
            return Verdict.skip("pod has no IP");
        }
        String forced = pod.annotations().get(SelectionPolicy.RESERVE_ANNOTATION);
        if ("false".equalsIgnoreCase(forced)) {
            return Verdict.skip("opted out by annotation " + SelectionPolicy.RESERVE_ANNOTATION);
        }
        boolean selected = "true".equalsIgnoreCase(forced) || matches(policy, pod.labels());
        if (!selected) {
            return Verdict.skip("labels do not match the selector");
        }
        return new Verdict(true, "selected", ttlOverride(pod.annotations()).orElse(null));
    }

    /** Whether the labels match the selector alone (no namespace, annotation or IP check). */
    public static boolean matches(SelectionPolicy policy, Map<String, String> labels) {
        if (policy.anyOf()) {
            return policy.requirements().stream().anyMatch(r -> r.matches(labels));
        }
        return policy.requirements().stream().allMatch(r -> r.matches(labels));
    }

    /**
     * Labels of a pod this selector selects (for the warm-up, which must take the path of a selected pod whatever
     * the configured selector is); empty when no set of labels can satisfy it (e.g. {@code In [a]} and
     * {@code NotIn [a]} on one key).
     */
    public static Optional<Map<String, String>> sampleLabels(SelectionPolicy policy) {
        Map<String, String> labels = new java.util.TreeMap<>();
        for (SelectorRequirement r : policy.requirements()) {
            switch (r.operator()) {
                case SelectorRequirement.IN -> labels.putIfAbsent(r.key(), r.values().get(0));
                case SelectorRequirement.EXISTS -> labels.putIfAbsent(r.key(), "capo-warmup");
                default -> {
                    // NotIn and DoesNotExist are satisfied by a pod without the label
                }
            }
        }
        return matches(policy, labels) ? Optional.of(labels) : Optional.empty();
    }

    /** A malformed TTL annotation is ignored (the global TTL applies) rather than blocking the deletion. */
    static Optional<Duration> ttlOverride(Map<String, String> annotations) {
        String text = annotations.get(SelectionPolicy.TTL_ANNOTATION);
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        try {
            Duration ttl = GoDuration.parse(text.trim());
            return ttl.isZero() || ttl.isNegative() ? Optional.empty() : Optional.of(ttl);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
