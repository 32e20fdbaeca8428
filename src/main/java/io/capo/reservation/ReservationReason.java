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
    /** The address was parked, but the write of its metadata never happened (a crash between the two). */
    public static final String REPAIRED = "repaired";

    private ReservationReason() {
    }
}
