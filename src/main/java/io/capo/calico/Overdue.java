package io.capo.calico;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * Which keys have been in a state for at least a grace period, seen in successive looks: a key that leaves the
 * state is forgotten, and counts from scratch when it comes back. Used by the leader's repair so that a CIDR whose
 * metadata another replica is still writing is not mistaken for one whose metadata write never happened.
 */
final class Overdue {

    private final Duration grace;
    private final Map<String, Instant> since = new HashMap<>();

    Overdue(Duration grace) {
        this.grace = grace;
    }

    /** The keys now in the state for at least the grace period (the state being: they are in {@code current}). */
    synchronized List<String> look(Collection<String> current, Instant now) {
        since.keySet().retainAll(new HashSet<>(current));
        List<String> due = new ArrayList<>();
        for (String key : current) {
            Instant first = since.computeIfAbsent(key, k -> now);
            if (Duration.between(first, now).compareTo(grace) >= 0) {
                due.add(key);
            }
        }
        return due;
    }

    synchronized void forget(String key) {
        since.remove(key);
    }
}
