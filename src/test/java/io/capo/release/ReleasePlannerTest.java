package io.capo.release;

import static io.capo.release.PodLiveness.State.ALIVE;
import static io.capo.release.PodLiveness.State.GONE;
import static io.capo.release.PodLiveness.State.TERMINATING;
import static io.capo.release.PodLiveness.State.UNKNOWN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationReason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class ReleasePlannerTest {

    private static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");
    private static final Duration TTL = Duration.ofHours(1);
    private static final Duration GRACE = Duration.ofMinutes(10);
    private static final ReleasePolicy POLICY = new ReleasePolicy(TTL, 1000, GRACE, Map.of());
    private static final Duration NS = Duration.ofNanos(1);

    private static final PodLiveness NEVER_ASKED = (ns, pod, uid, cidr) -> {
        throw new AssertionError("liveness consulted for " + cidr);
    };

    private final ReleasePlanner planner = new ReleasePlanner();

    private static Reservation entry(String cidr, Instant reservedAt, Instant goneAt) {
        return new Reservation(cidr, "db", "pg-0", "uid-" + cidr, "node-a", ReservationReason.DELETE,
                reservedAt, goneAt, null);
    }

    private static Reservation adopted(String cidr, Instant reservedAt, Instant goneAt) {
        return new Reservation(cidr, "db", "pg-0", "", "", ReservationReason.ADOPTED, reservedAt, goneAt, null);
    }

    private static PodLiveness always(PodLiveness.State state) {
        return (ns, pod, uid, cidr) -> state;
    }

    private static List<String> cidrs(List<Release> releases) {
        return releases.stream().map(r -> r.reservation().cidr()).toList();
    }

    static Stream<Arguments> ttlBoundary() {
        return Stream.of(
                Arguments.of("just gone", Duration.ZERO, false),
                Arguments.of("1 ns before ttl", TTL.minus(NS), false),
                Arguments.of("exactly at ttl", TTL, true),
                Arguments.of("1 ns after ttl", TTL.plus(NS), true),
                Arguments.of("long after ttl", TTL.multipliedBy(100), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ttlBoundary")
    void ttlCountsFromGoneAt(String name, Duration sinceGone, boolean released) {
        Instant goneAt = NOW.minus(sinceGone);
        // reserved long ago: only goneAt matters
        Reservation r = entry("10.0.0.1/32", goneAt.minus(Duration.ofDays(30)), goneAt);

        ReleasePlan plan = planner.plan(NOW, List.of(r), POLICY, NEVER_ASKED);

        assertThat(plan.markGone()).isEmpty();
        if (released) {
            assertThat(plan.releases()).containsExactly(new Release(r, ReleaseReason.TTL));
        } else {
            assertThat(plan.releases()).isEmpty();
        }
    }

    static Stream<Arguments> effectiveTtl() {
        Duration own = Duration.ofMinutes(5);
        Duration namespace = Duration.ofMinutes(30);
        return Stream.of(
                Arguments.of("own ttl beats namespace", own, Map.of("db", namespace), own),
                Arguments.of("own ttl beats global", own, Map.of(), own),
                Arguments.of("namespace beats global", null, Map.of("db", namespace), namespace),
                Arguments.of("other namespace ignored", null, Map.of("web", namespace), TTL),
                Arguments.of("global", null, Map.of(), TTL),
                Arguments.of("own ttl longer than global", Duration.ofHours(5), Map.of("db", namespace),
                        Duration.ofHours(5)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("effectiveTtl")
    void effectiveTtlPrecedence(String name, Duration own, Map<String, Duration> namespaceTtl, Duration expected) {
        ReleasePolicy policy = new ReleasePolicy(TTL, 1000, GRACE, namespaceTtl);
        Instant goneAt = NOW.minus(Duration.ofDays(1));
        Reservation atBoundary = new Reservation("10.0.0.1/32", "db", "pg-0", "u1", "", ReservationReason.DELETE,
                goneAt.minus(expected), NOW.minus(expected), own);
        Reservation justBefore = new Reservation("10.0.0.2/32", "db", "pg-1", "u2", "", ReservationReason.DELETE,
                goneAt.minus(expected), NOW.minus(expected).plus(NS), own);

        ReleasePlan plan = planner.plan(NOW, List.of(atBoundary, justBefore), policy, NEVER_ASKED);

        assertThat(plan.releases()).containsExactly(new Release(atBoundary, ReleaseReason.TTL));
    }

    @Test
    void goneWithoutGoneAtIsMarkedNotReleased() {
        // reserved far longer ago than the ttl: the ttl still only starts now
        Reservation r = entry("10.0.0.1/32", NOW.minus(Duration.ofDays(10)), null);

        ReleasePlan plan = planner.plan(NOW, List.of(r), POLICY, always(GONE));

        assertThat(plan.releases()).isEmpty();
        assertThat(plan.markGone()).containsExactly(r.withGoneAt(NOW));
        assertThat(plan.isEmpty()).isFalse();
    }

    @Test
    void goneEntryWithZeroOwnTtlIsStillOnlyMarked() {
        Reservation r = new Reservation("10.0.0.1/32", "db", "pg-0", "u1", "", ReservationReason.DELETE,
                NOW.minus(Duration.ofDays(1)), null, Duration.ZERO);

        ReleasePlan plan = planner.plan(NOW, List.of(r), POLICY, always(GONE));

        assertThat(plan.releases()).isEmpty();
        assertThat(plan.markGone()).containsExactly(r.withGoneAt(NOW));
    }

    static Stream<Arguments> liveness() {
        return Stream.of(
                Arguments.of(ALIVE, Duration.ZERO, false),
                Arguments.of(ALIVE, GRACE.minus(NS), false),
                Arguments.of(ALIVE, GRACE, true),
                Arguments.of(ALIVE, Duration.ofDays(30), true),
                Arguments.of(TERMINATING, GRACE, false),
                Arguments.of(TERMINATING, Duration.ofDays(30), false),
                Arguments.of(UNKNOWN, GRACE, false),
                Arguments.of(UNKNOWN, Duration.ofDays(30), false),
                Arguments.of(null, Duration.ofDays(30), false));
    }

    @ParameterizedTest(name = "{0} reserved {1} ago -> stale {2}")
    @MethodSource("liveness")
    void staleOnlyWhenAliveAfterGrace(PodLiveness.State state, Duration age, boolean stale) {
        Reservation r = entry("10.0.0.1/32", NOW.minus(age), null);

        ReleasePlan plan = planner.plan(NOW, List.of(r), POLICY, always(state));

        assertThat(plan.markGone()).isEmpty();
        if (stale) {
            assertThat(plan.releases()).containsExactly(new Release(r, ReleaseReason.STALE));
        } else {
            assertThat(plan.isEmpty()).isTrue();
        }
    }

    @Test
    void livenessIsAskedAboutTheReservedPodAndAddress() {
        Reservation r = new Reservation("10.0.0.7/32", "shop", "redis-2", "abc-123", "node-b",
                ReservationReason.EVICTION, NOW, null, null);
        List<List<String>> asked = new ArrayList<>();

        planner.plan(NOW, List.of(r), POLICY, (ns, pod, uid, cidr) -> {
            asked.add(List.of(ns, pod, uid, cidr));
            return UNKNOWN;
        });

        assertThat(asked).containsExactly(List.of("shop", "redis-2", "abc-123", "10.0.0.7/32"));
    }

    @ParameterizedTest
    @EnumSource(PodLiveness.State.class)
    void entriesWithGoneAtNeverConsultLiveness(PodLiveness.State ignored) {
        Reservation r = entry("10.0.0.1/32", NOW.minus(Duration.ofDays(1)), NOW.minus(Duration.ofMinutes(1)));

        ReleasePlan plan = planner.plan(NOW, List.of(r), POLICY, NEVER_ASKED);

        assertThat(plan.isEmpty()).isTrue();
    }

    static Stream<Arguments> adoptedEntries() {
        return Stream.of(
                Arguments.of("no goneAt, reserved within ttl", NOW.minus(TTL).plus(NS), null, false),
                Arguments.of("no goneAt, reserved exactly ttl ago", NOW.minus(TTL), null, true),
                Arguments.of("no goneAt, reserved long ago", NOW.minus(Duration.ofDays(3)), null, true),
                Arguments.of("goneAt within ttl", NOW.minus(Duration.ofDays(3)), NOW.minus(TTL).plus(NS), false),
                Arguments.of("goneAt exactly ttl ago", NOW.minus(Duration.ofDays(3)), NOW.minus(TTL), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("adoptedEntries")
    void adoptedEntriesUseReservedAtWhenNotGoneAndNeverAskLiveness(String name, Instant reservedAt, Instant goneAt,
                                                                    boolean released) {
        Reservation r = adopted("10.0.0.1/32", reservedAt, goneAt);

        ReleasePlan plan = planner.plan(NOW, List.of(r), POLICY, NEVER_ASKED);

        assertThat(plan.markGone()).isEmpty();
        assertThat(plan.count(ReleaseReason.TTL)).isEqualTo(released ? 1 : 0);
        assertThat(plan.releases()).hasSize(released ? 1 : 0);
    }

    @Test
    void maxCountReleasesOldestFirstWithCidrTieBreak() {
        Instant t0 = NOW.minus(Duration.ofMinutes(50));
        Instant gone = NOW.minus(Duration.ofMinutes(1));
        // same reservedAt: string order puts 10.0.0.10 before 10.0.0.9
        Reservation tieA = entry("10.0.0.9/32", t0, gone);
        Reservation tieB = entry("10.0.0.10/32", t0, gone);
        Reservation older = entry("10.0.0.99/32", t0.minusSeconds(1), gone);
        Reservation newer = entry("10.0.0.1/32", t0.plusSeconds(1), gone);
        ReleasePolicy policy = new ReleasePolicy(TTL, 2, GRACE, Map.of());

        ReleasePlan plan = planner.plan(NOW, List.of(newer, tieA, older, tieB), policy, NEVER_ASKED);

        assertThat(plan.releases()).extracting(Release::reason).containsOnly(ReleaseReason.MAX_COUNT);
        assertThat(cidrs(plan.releases())).containsExactly("10.0.0.99/32", "10.0.0.10/32");
    }

    static Stream<Arguments> maxCountAfterTtl() {
        // 5 entries, 2 of them past their ttl
        return Stream.of(
                Arguments.of(10, 2L, 0L),
                Arguments.of(3, 2L, 0L),
                Arguments.of(2, 2L, 1L),
                Arguments.of(1, 2L, 2L),
                Arguments.of(0, 2L, 3L));
    }

    @ParameterizedTest(name = "maxCount {0} -> ttl {1}, max-count {2}")
    @MethodSource("maxCountAfterTtl")
    void maxCountDoesNotDoubleCountTtlReleases(int maxCount, long ttlReleases, long maxCountReleases) {
        Instant expired = NOW.minus(TTL.multipliedBy(2));
        Instant fresh = NOW.minus(Duration.ofMinutes(1));
        // the expired entries are the oldest, so a double count would pick them for max-count again
        List<Reservation> held = List.of(
                entry("10.0.0.1/32", NOW.minus(Duration.ofDays(5)), expired),
                entry("10.0.0.2/32", NOW.minus(Duration.ofDays(4)), expired),
                entry("10.0.0.3/32", NOW.minus(Duration.ofDays(3)), fresh),
                entry("10.0.0.4/32", NOW.minus(Duration.ofDays(2)), fresh),
                entry("10.0.0.5/32", NOW.minus(Duration.ofDays(1)), fresh));

        ReleasePlan plan = planner.plan(NOW, held, new ReleasePolicy(TTL, maxCount, GRACE, Map.of()), NEVER_ASKED);

        assertThat(plan.count(ReleaseReason.TTL)).isEqualTo(ttlReleases);
        assertThat(plan.count(ReleaseReason.MAX_COUNT)).isEqualTo(maxCountReleases);
        assertThat(plan.releases()).hasSize((int) (ttlReleases + maxCountReleases));
        assertThat(cidrs(plan.releases())).doesNotHaveDuplicates();
        assertThat(held.size() - plan.releases().size()).isEqualTo(Math.min(maxCount, 3));
    }

    @Test
    void maxCountCountsAliveTerminatingAndNewlyGoneEntriesAndDropsThemFromMarkGone() {
        Map<String, PodLiveness.State> states = new HashMap<>();
        states.put("10.0.0.1/32", GONE);
        states.put("10.0.0.2/32", ALIVE);
        states.put("10.0.0.3/32", TERMINATING);
        states.put("10.0.0.4/32", GONE);
        states.put("10.0.0.5/32", UNKNOWN);
        List<Reservation> held = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            // all within the stale grace, oldest first
            held.add(entry("10.0.0." + i + "/32", NOW.minus(Duration.ofMinutes(6 - i)), null));
        }
        ReleasePolicy policy = new ReleasePolicy(TTL, 2, GRACE, Map.of());

        ReleasePlan plan = planner.plan(NOW, held, policy, (ns, pod, uid, cidr) -> states.get(cidr));

        assertThat(plan.count(ReleaseReason.MAX_COUNT)).isEqualTo(3);
        assertThat(cidrs(plan.releases())).containsExactly("10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32");
        assertThat(plan.releases().get(0).reservation()).isEqualTo(held.get(0));
        assertThat(plan.markGone()).containsExactly(held.get(3).withGoneAt(NOW));
    }

    @Test
    void maxCountZeroReleasesEverything() {
        List<Reservation> held = List.of(
                entry("10.0.0.1/32", NOW.minus(Duration.ofDays(1)), NOW.minus(TTL)),
                entry("10.0.0.2/32", NOW.minus(Duration.ofDays(1)), null),
                entry("10.0.0.3/32", NOW, null),
                adopted("10.0.0.4/32", NOW, null));
        Map<String, PodLiveness.State> states = Map.of("10.0.0.2/32", ALIVE, "10.0.0.3/32", GONE);

        ReleasePlan plan = planner.plan(NOW, held, new ReleasePolicy(TTL, 0, GRACE, Map.of()),
                (ns, pod, uid, cidr) -> states.get(cidr));

        assertThat(plan.releases()).extracting(Release::reason)
                .containsExactly(ReleaseReason.TTL, ReleaseReason.STALE, ReleaseReason.MAX_COUNT,
                        ReleaseReason.MAX_COUNT);
        assertThat(cidrs(plan.releases())).containsExactly("10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32", "10.0.0.4/32");
        assertThat(plan.markGone()).isEmpty();
    }

    @Test
    void outputIsSortedByReasonThenReservedAtThenCidr() {
        Instant expired = NOW.minus(TTL);
        Instant old = NOW.minus(Duration.ofDays(2));
        Instant older = NOW.minus(Duration.ofDays(3));
        List<Reservation> held = List.of(
                entry("10.0.0.8/32", older, null),            // alive -> stale
                entry("10.0.0.3/32", old, expired),            // ttl
                entry("10.0.0.2/32", old, expired),            // ttl, same reservedAt
                entry("10.0.0.1/32", NOW, expired),            // ttl, newest
                entry("10.0.0.7/32", old, null),               // alive -> stale
                entry("10.0.0.9/32", NOW.minusSeconds(30), null), // gone -> max-count (oldest kept)
                entry("10.0.0.6/32", NOW.minusSeconds(20), null), // gone -> markGone
                entry("10.0.0.5/32", NOW.minusSeconds(10), null)); // gone -> markGone
        Map<String, PodLiveness.State> states = Map.of("10.0.0.8/32", ALIVE, "10.0.0.7/32", ALIVE,
                "10.0.0.9/32", GONE, "10.0.0.6/32", GONE, "10.0.0.5/32", GONE);

        ReleasePlan plan = planner.plan(NOW, held, new ReleasePolicy(TTL, 2, GRACE, Map.of()),
                (ns, pod, uid, cidr) -> states.get(cidr));

        assertThat(plan.releases()).extracting(r -> r.reason() + " " + r.reservation().cidr()).containsExactly(
                "ttl 10.0.0.2/32", "ttl 10.0.0.3/32", "ttl 10.0.0.1/32",
                "stale 10.0.0.8/32", "stale 10.0.0.7/32",
                "max-count 10.0.0.9/32");
        assertThat(plan.markGone()).extracting(Reservation::cidr).containsExactly("10.0.0.5/32", "10.0.0.6/32");
        assertThat(plan.markGone()).allSatisfy(r -> assertThat(r.goneAt()).isEqualTo(NOW));
    }

    @Test
    void emptyInputGivesEmptyPlan() {
        ReleasePlan plan = planner.plan(NOW, List.of(), new ReleasePolicy(TTL, 0, GRACE, Map.of()), NEVER_ASKED);

        assertThat(plan.isEmpty()).isTrue();
        assertThat(plan.releases()).isEmpty();
        assertThat(plan.markGone()).isEmpty();
        assertThat(plan.count(ReleaseReason.TTL)).isZero();
    }

    @Test
    void nullArgumentsAreRejected() {
        PodLiveness live = always(UNKNOWN);
        assertThatThrownBy(() -> planner.plan(null, List.of(), POLICY, live)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> planner.plan(NOW, null, POLICY, live)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> planner.plan(NOW, List.of(), null, live)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> planner.plan(NOW, List.of(), POLICY, null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void hugeTtlDoesNotOverflow() {
        Reservation r = new Reservation("10.0.0.1/32", "db", "pg-0", "u1", "", ReservationReason.DELETE,
                Instant.MIN, Instant.MIN, Duration.ofSeconds(Long.MAX_VALUE));

        ReleasePlan plan = planner.plan(NOW, List.of(r), POLICY, NEVER_ASKED);

        assertThat(plan.isEmpty()).isTrue();
    }

    @Test
    void tenThousandEntries() {
        int n = 10_000;
        Instant expired = NOW.minus(TTL.multipliedBy(2));
        List<Reservation> held = new ArrayList<>(n);
        Map<String, PodLiveness.State> states = new HashMap<>();
        PodLiveness.State[] cycle = {ALIVE, TERMINATING, GONE, UNKNOWN};
        for (int i = 0; i < n; i++) {
            String cidr = "10." + (i >> 16) + "." + ((i >> 8) & 0xff) + "." + (i & 0xff) + "/32";
            Instant reservedAt = NOW.minus(Duration.ofMinutes(n - i));
            switch (i % 5) {
                case 0 -> held.add(entry(cidr, reservedAt, expired)); // 2,000 ttl
                case 1 -> held.add(adopted(cidr, NOW, null));        // 2,000 kept
                default -> {
                    held.add(entry(cidr, reservedAt, null));
                    states.put(cidr, cycle[i % 4]);
                }
            }
        }
        long alive = states.values().stream().filter(s -> s == ALIVE).count();
        long gone = states.values().stream().filter(s -> s == GONE).count();
        PodLiveness liveness = (ns, pod, uid, cidr) -> states.get(cidr);

        ReleasePlan unlimited = planner.plan(NOW, held, new ReleasePolicy(TTL, n, GRACE, Map.of()), liveness);

        // every alive entry is older than the grace except the newest ones within 10 minutes
        long aliveWithinGrace = held.stream()
                .filter(r -> states.get(r.cidr()) == ALIVE && r.reservedAt().isAfter(NOW.minus(GRACE)))
                .count();
        assertThat(unlimited.count(ReleaseReason.TTL)).isEqualTo(2_000);
        assertThat(unlimited.count(ReleaseReason.STALE)).isEqualTo(alive - aliveWithinGrace);
        assertThat(unlimited.count(ReleaseReason.MAX_COUNT)).isZero();
        assertThat(unlimited.markGone()).hasSize((int) gone);

        ReleasePlan capped = planner.plan(NOW, held, new ReleasePolicy(TTL, 1_000, GRACE, Map.of()), liveness);

        long remainingBeforeCap = n - capped.count(ReleaseReason.TTL) - capped.count(ReleaseReason.STALE);
        assertThat(capped.count(ReleaseReason.MAX_COUNT)).isEqualTo(remainingBeforeCap - 1_000);
        assertThat(n - capped.releases().size()).isEqualTo(1_000);
        assertThat(capped.markGone()).hasSizeLessThanOrEqualTo((int) gone);
    }
}
