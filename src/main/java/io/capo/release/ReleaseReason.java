package io.capo.release;

/** Why an address was released; the value is used as a metric and log label. */
public final class ReleaseReason {
    public static final String TTL = "ttl";
    public static final String STALE = "stale";
    public static final String MAX_COUNT = "max-count";
    /** More addresses of one Calico IPPool parked than its cap allows (see {@link PoolHeadroom}). */
    public static final String POOL_HEADROOM = "pool-headroom";

    private ReleaseReason() {
    }
}
