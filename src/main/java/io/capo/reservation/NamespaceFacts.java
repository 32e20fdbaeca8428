package io.capo.reservation;

import java.util.Map;

/** The labels of a namespace and whether it is being deleted. */
public record NamespaceFacts(String name, Map<String, String> labels, boolean terminating) {

    public NamespaceFacts {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }
}
