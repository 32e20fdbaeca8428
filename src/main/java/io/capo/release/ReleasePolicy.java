package io.capo.release;

import java.time.Duration;
import java.util.Map;

/**
 * When parked addresses are given back.
 *
 * @param ttl          global time to live, counted from when the pod was gone
 * @param maxCount     most entries kept at once; 0 releases everything
 * @param staleGrace   how long a reservation whose pod is still alive is kept before it is dropped as stale
 * @param namespaceTtl per-namespace time to live, overriding {@code ttl}; may be empty
 */
public record ReleasePolicy(Duration ttl, int maxCount, Duration staleGrace, Map<String, Duration> namespaceTtl) {

    public ReleasePolicy {
        requirePositive(ttl, "ttl");
        if (maxCount < 0) {
            throw new IllegalArgumentException("maxCount must be >= 0, got " + maxCount);
        }
        requirePositive(staleGrace, "staleGrace");
        namespaceTtl = namespaceTtl == null ? Map.of() : namespaceTtl;
        namespaceTtl.forEach((namespace, value) -> {
            if (namespace == null) {
                throw new IllegalArgumentException("namespaceTtl has a null namespace");
            }
            requirePositive(value, "namespaceTtl[" + namespace + "]");
        });
        namespaceTtl = Map.copyOf(namespaceTtl);
    }

    public ReleasePolicy(Duration ttl, int maxCount, Duration staleGrace) {
        this(ttl, maxCount, staleGrace, Map.of());
    }

    /** The namespace's own time to live if it has one, else the global one. */
    public Duration ttlFor(String namespace) {
        return namespaceTtl.getOrDefault(namespace, ttl);
    }

    private static void requirePositive(Duration value, String name) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }
}
