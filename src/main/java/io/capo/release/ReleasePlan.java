package io.capo.release;

import io.capo.reservation.Reservation;
import java.util.List;

/**
 * Outcome of one planning cycle.
 *
 * @param releases entries to remove from the IPReservation
 * @param markGone entries to keep but store again with their new {@code goneAt}
 */
public record ReleasePlan(List<Release> releases, List<Reservation> markGone) {

    public ReleasePlan {
        releases = List.copyOf(releases);
        markGone = List.copyOf(markGone);
    }

    public boolean isEmpty() {
        return releases.isEmpty() && markGone.isEmpty();
    }

    public long count(String reason) {
        return releases.stream().filter(r -> r.reason().equals(reason)).count();
    }
}
