package io.capo.reservation;

/** A pod change as seen by the informer; {@code before} is null unless the type is {@code MODIFIED}. */
public record PodEvent(String type, PodFacts before, PodFacts pod) {
    public static final String ADDED = "ADDED";
    public static final String MODIFIED = "MODIFIED";
    public static final String DELETED = "DELETED";
}
