package io.capo.reservation;

/** Why an address was parked; the value is stored with the entry and used as a metric label. */
public final class ReservationReason {
    public static final String DELETE = "delete";
    public static final String EVICTION = "eviction";
    public static final String KUBELET_EVICTION = "kubelet-eviction";
    public static final String POD_TERMINATED = "pod-terminated";
    public static final String NODE_DELETED = "node-deleted";
    public static final String LATE = "late";
    public static final String ADOPTED = "adopted";

    private ReservationReason() {
    }
}
