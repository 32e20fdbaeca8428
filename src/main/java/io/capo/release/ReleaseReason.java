package io.capo.release;

/** Why an address was released; the value is used as a metric and log label. */
public final class ReleaseReason {
    public static final String TTL = "ttl";
    public static final String STALE = "stale";
    public static final String MAX_COUNT = "max-count";

    private ReleaseReason() {
    }
}
