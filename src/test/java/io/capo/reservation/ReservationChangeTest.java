package io.capo.reservation;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class ReservationChangeTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private static Reservation entry(String uid, Instant goneAt) {
        return new Reservation("10.0.0.7/32", "ns", "redis-0", uid, "node-1", ReservationReason.DELETE, T0, goneAt,
                Duration.ofMinutes(40));
    }

    @Test
    void anAddressNotParkedIsNew() {
        Reservation requested = entry("u1", null);
        ReservationChange change = ReservationChange.of(false, null, requested);
        assertThat(change).isEqualTo(ReservationChange.NEW);
        assertThat(change.stored(null, requested)).isSameAs(requested);
        assertThat(change.counted()).isEqualTo(new ReserveResult(1, 0, 0));
    }

    @Test
    void aRepeatedCallForTheSamePodChangesNothing() {
        Reservation existing = entry("u1", null);
        ReservationChange change = ReservationChange.of(true, existing, entry("u1", null));
        assertThat(change).isEqualTo(ReservationChange.UNCHANGED);
        assertThat(change.stored(existing, entry("u1", null))).isNull();
        assertThat(change.counted()).isEqualTo(new ReserveResult(0, 0, 1));
    }

    @Test
    void aParkedAddressWithoutItsEntryYetIsLeftToWhoeverParkedIt() {
        assertThat(ReservationChange.of(true, null, entry("u1", null))).isEqualTo(ReservationChange.UNCHANGED);
    }

    @Test
    void theSamePodGoneRecordsOnlyGoneAtAndKeepsReservedAt() {
        Reservation existing = entry("u1", null);
        Instant gone = T0.plusSeconds(30);
        Reservation requested = new Reservation("10.0.0.7/32", "ns", "redis-0", "u1", "node-1",
                ReservationReason.DELETE, T0.plusSeconds(30), gone, Duration.ofMinutes(40));
        ReservationChange change = ReservationChange.of(true, existing, requested);
        assertThat(change).isEqualTo(ReservationChange.GONE_AT);
        assertThat(change.stored(existing, requested)).isEqualTo(existing.withGoneAt(gone));
        assertThat(change.counted()).isEqualTo(new ReserveResult(0, 1, 0));
    }

    @Test
    void goneAtIsRecordedOnce() {
        Reservation existing = entry("u1", T0.plusSeconds(10));
        assertThat(ReservationChange.of(true, existing, entry("u1", T0.plusSeconds(99))))
                .isEqualTo(ReservationChange.UNCHANGED);
    }

    @Test
    void anAddressOfAnEarlierPodParkedAgainGetsTheNewOwner() {
        Reservation existing = entry("u1", T0);
        Reservation requested = entry("u2", null);
        ReservationChange change = ReservationChange.of(true, existing, requested);
        assertThat(change).isEqualTo(ReservationChange.REPLACED);
        assertThat(change.stored(existing, requested)).isSameAs(requested);
        assertThat(change.counted()).isEqualTo(new ReserveResult(0, 1, 0));
    }

    @Test
    void aFullObjectTakesOnlyAddressesItHoldsAlready() {
        assertThat(ReservationChange.fits(10, 0, 10)).isTrue();
        assertThat(ReservationChange.fits(9, 1, 10)).isTrue();
        assertThat(ReservationChange.fits(9, 2, 10)).isFalse();
        assertThat(ReservationChange.fits(10, 1, 10)).isFalse();
    }
}
