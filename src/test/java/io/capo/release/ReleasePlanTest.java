package io.capo.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationReason;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReleasePlanTest {

    private static final Instant AT = Instant.parse("2025-06-01T12:00:00Z");

    private static Reservation entry(String cidr) {
        return new Reservation(cidr, "db", "pg-0", "u", "", ReservationReason.DELETE, AT, null, null);
    }

    @Test
    void countsPerReasonAndIsEmpty() {
        ReleasePlan plan = new ReleasePlan(List.of(
                new Release(entry("10.0.0.1/32"), ReleaseReason.TTL),
                new Release(entry("10.0.0.2/32"), ReleaseReason.TTL),
                new Release(entry("10.0.0.3/32"), ReleaseReason.MAX_COUNT)), List.of());

        assertThat(plan.isEmpty()).isFalse();
        assertThat(plan.count(ReleaseReason.TTL)).isEqualTo(2);
        assertThat(plan.count(ReleaseReason.MAX_COUNT)).isEqualTo(1);
        assertThat(plan.count(ReleaseReason.STALE)).isZero();
        assertThat(new ReleasePlan(List.of(), List.of()).isEmpty()).isTrue();
        assertThat(new ReleasePlan(List.of(), List.of(entry("10.0.0.4/32"))).isEmpty()).isFalse();
    }

    @Test
    void listsAreDefensiveCopies() {
        List<Reservation> gone = new ArrayList<>(List.of(entry("10.0.0.1/32")));
        ReleasePlan plan = new ReleasePlan(new ArrayList<>(), gone);
        gone.clear();

        assertThat(plan.markGone()).hasSize(1);
        assertThatThrownBy(() -> plan.releases().add(new Release(entry("10.0.0.2/32"), ReleaseReason.TTL)))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void releaseRequiresReservationAndReason() {
        assertThatThrownBy(() -> new Release(null, ReleaseReason.TTL)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new Release(entry("10.0.0.1/32"), null)).isInstanceOf(NullPointerException.class);
    }
}
