package io.capo.reservation;

/**
 * Outcome of a reservation request.
 *
 * @param added     entries that were not parked before
 * @param unchanged entries that were already parked for the same pod UID (a repeated admission call)
 */
public record ReserveResult(int added, int updated, int unchanged) {

    public static final ReserveResult NOTHING = new ReserveResult(0, 0, 0);

    public ReserveResult plus(ReserveResult other) {
        return new ReserveResult(added + other.added, updated + other.updated, unchanged + other.unchanged);
    }
}
