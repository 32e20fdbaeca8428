package io.capo.release;

import io.capo.reservation.Reservation;
import java.util.Objects;

/**
 * One entry to take out of the IPReservation.
 *
 * @param reservation the entry as currently held
 * @param reason      one of {@link ReleaseReason}
 */
public record Release(Reservation reservation, String reason) {

    public Release {
        Objects.requireNonNull(reservation, "reservation");
        Objects.requireNonNull(reason, "reason");
    }
}
