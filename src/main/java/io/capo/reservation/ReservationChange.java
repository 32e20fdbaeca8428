package io.capo.reservation;

/**
 * What reserving an address means for the ledger, decided in one place for every ledger: whether the address is
 * new, already parked for the same pod (a repeated admission call, or a watch event after the webhook), parked for
 * the same pod that is now gone (only {@code goneAt} changes), or parked for an earlier pod and now parked again for
 * this one (the entry gets the new owner).
 */
public enum ReservationChange {
    /** Not parked yet: the address goes into the ledger. */
    NEW,
    /** Parked already and nothing to add; nothing is written. */
    UNCHANGED,
    /** Parked for this pod, which is gone now: only {@code goneAt} is recorded. */
    GONE_AT,
    /** Parked for an earlier pod: the entry now describes this one (its time to live counts from now). */
    REPLACED;

    /**
     * @param parked    whether the address is parked already
     * @param existing  its entry, or null when there is none (yet: whoever parked it writes it)
     * @param requested the entry this request would store
     */
    public static ReservationChange of(boolean parked, Reservation existing, Reservation requested) {
        if (!parked) {
            return NEW;
        }
        if (existing == null) {
            return UNCHANGED;
        }
        if (!existing.uid().equals(requested.uid())) {
            return REPLACED;
        }
        return requested.goneAt() != null && existing.goneAt() == null ? GONE_AT : UNCHANGED;
    }

    /** The entry to store after this change, null when nothing is stored. */
    public Reservation stored(Reservation existing, Reservation requested) {
        return switch (this) {
            case NEW, REPLACED -> requested;
            case GONE_AT -> existing.withGoneAt(requested.goneAt());
            case UNCHANGED -> null;
        };
    }

    /** How the change counts in a {@link ReserveResult}. */
    public ReserveResult counted() {
        return switch (this) {
            case NEW -> new ReserveResult(1, 0, 0);
            case GONE_AT, REPLACED -> new ReserveResult(0, 1, 0);
            case UNCHANGED -> new ReserveResult(0, 0, 1);
        };
    }

    /**
     * Whether adding {@code missing} addresses to a ledger object holding {@code held} stays within {@code max}
     * (an object that is full still accepts a request whose addresses are all parked already).
     */
    public static boolean fits(int held, long missing, int max) {
        return missing == 0 || held + missing <= max;
    }
}
