package io.capo.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationReason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PoolHeadroomTest {

    private static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");
    private static final ReleasePolicy POLICY =
            new ReleasePolicy(Duration.ofHours(1), 1000, Duration.ofMinutes(10), Map.of());
    private static final PodLiveness GONE = (ns, pod, uid, cidr) -> PodLiveness.State.GONE;

    private final ReleasePlanner planner = new ReleasePlanner();

    /** Reserved {@code minutesAgo} minutes ago, pod found gone by this cycle (so kept entries are marked gone). */
    private static Reservation parked(String cidr, int minutesAgo) {
        Instant at = NOW.minus(Duration.ofMinutes(minutesAgo));
        return new Reservation(cidr, "db", "pg-" + minutesAgo, "uid-" + cidr, "node-a", ReservationReason.DELETE,
                at, null, null);
    }

    private static List<String> released(ReleasePlan plan, String reason) {
        return plan.releases().stream().filter(r -> r.reason().equals(reason)).map(r -> r.reservation().cidr())
                .toList();
    }

    @Test
    void capIsTheShareOfThePoolRoundedDown() {
        PoolHeadroom headroom = PoolHeadroom.ofPercent(List.of("10.0.0.0/28", "10.1.0.0/16", "fd00::/120",
                "fd01::/64"), 10);

        assertThat(headroom.poolOf("10.0.0.7/32")).get().satisfies(p -> {
            assertThat(p.capacity()).isEqualTo(16);
            assertThat(p.cap()).isEqualTo(1);
        });
        assertThat(headroom.poolOf("10.1.200.3/32")).get().satisfies(p -> {
            assertThat(p.capacity()).isEqualTo(65_536);
            assertThat(p.cap()).isEqualTo(6_553);
        });
        assertThat(headroom.poolOf("fd00::ff/128")).get().extracting(PoolHeadroom.Pool::cap).isEqualTo(25L);
        assertThat(headroom.poolOf("fd01::1/128")).get().extracting(PoolHeadroom.Pool::capacity)
                .isEqualTo(Long.MAX_VALUE);
        assertThat(PoolHeadroom.ofPercent(List.of("10.0.0.0/28"), 25).pools().get(0).cap()).isEqualTo(4);
    }

    @Test
    void anAddressBelongsToTheMostSpecificPoolOnly() {
        PoolHeadroom headroom = PoolHeadroom.ofPercent(List.of("10.0.0.0/16", "10.0.5.0/24"), 50);

        assertThat(headroom.poolOf("10.0.5.9/32")).get().extracting(PoolHeadroom.Pool::cidr).isEqualTo("10.0.5.0/24");
        assertThat(headroom.poolOf("10.0.6.9/32")).get().extracting(PoolHeadroom.Pool::cidr).isEqualTo("10.0.0.0/16");
        assertThat(headroom.poolOf("10.1.0.1/32")).isEmpty();
        assertThat(headroom.poolOf("fd00::1/128")).isEmpty();
    }

    @Test
    void refusesWhatIsNoCidrOrNoShare() {
        assertThatThrownBy(() -> PoolHeadroom.ofPercent(List.of("10.0.0.0/33"), 10))
                .hasMessageContaining("10.0.0.0/33");
        assertThatThrownBy(() -> PoolHeadroom.ofPercent(List.of("pool.example.com/24"), 10))
                .hasMessageContaining("pool.example.com");
        assertThatThrownBy(() -> PoolHeadroom.ofPercent(List.of("10.0.0.0/24"), 0)).hasMessageContaining("percent");
        assertThatThrownBy(() -> PoolHeadroom.ofPercent(List.of("10.0.0.0/24"), 101))
                .hasMessageContaining("percent");
    }

    @Test
    void beyondItsCapAPoolReleasesItsOldestFirst() {
        // a /28 with a 25 % cap holds at most 4 parked addresses
        PoolHeadroom headroom = PoolHeadroom.ofPercent(List.of("10.0.0.0/28", "10.0.1.0/24"), 25);
        List<Reservation> held = new ArrayList<>();
        for (int i = 1; i <= 7; i++) {
            held.add(parked("10.0.0." + i + "/32", 60 - i)); // .1 is the oldest
        }
        held.add(parked("10.0.1.1/32", 100)); // older than all, but another pool far below its cap
        held.add(parked("192.168.0.1/32", 120)); // in no known pool

        ReleasePlan plan = planner.plan(NOW, held, POLICY, headroom, GONE);

        assertThat(released(plan, ReleaseReason.POOL_HEADROOM))
                .containsExactly("10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32");
        assertThat(plan.releases()).hasSize(3);
        // the kept entries are marked gone, the released ones are not
        assertThat(plan.markGone()).extracting(Reservation::cidr).containsExactlyInAnyOrder("10.0.0.4/32",
                "10.0.0.5/32", "10.0.0.6/32", "10.0.0.7/32", "10.0.1.1/32", "192.168.0.1/32");
    }

    @Test
    void atItsCapAPoolReleasesNothing() {
        PoolHeadroom headroom = PoolHeadroom.ofPercent(List.of("10.0.0.0/28"), 25);
        List<Reservation> held = List.of(parked("10.0.0.1/32", 4), parked("10.0.0.2/32", 3),
                parked("10.0.0.3/32", 2), parked("10.0.0.4/32", 1));

        assertThat(planner.plan(NOW, held, POLICY, headroom, GONE).releases()).isEmpty();
        assertThat(planner.plan(NOW, held, POLICY, PoolHeadroom.NONE, GONE).releases()).isEmpty();
    }

    @Test
    void otherRulesGoFirstAndAnEntryIsReleasedOnce() {
        PoolHeadroom headroom = PoolHeadroom.ofPercent(List.of("10.0.0.0/28"), 25);
        Reservation expired = new Reservation("10.0.0.9/32", "db", "old", "uid-old", "node-a",
                ReservationReason.DELETE, NOW.minus(Duration.ofHours(3)), NOW.minus(Duration.ofHours(2)), null);
        List<Reservation> held = new ArrayList<>(List.of(expired));
        for (int i = 1; i <= 6; i++) {
            held.add(parked("10.0.0." + i + "/32", 60 - i));
        }
        // max count 5 releases the oldest 1 of the 6 kept, the pool cap of 4 the next oldest 1
        ReleasePolicy policy = new ReleasePolicy(Duration.ofHours(1), 5, Duration.ofMinutes(10), Map.of());

        ReleasePlan plan = planner.plan(NOW, held, policy, headroom, GONE);

        assertThat(plan.releases()).extracting(r -> r.reason() + " " + r.reservation().cidr()).containsExactly(
                "ttl 10.0.0.9/32", "max-count 10.0.0.1/32", "pool-headroom 10.0.0.2/32");
    }
}
