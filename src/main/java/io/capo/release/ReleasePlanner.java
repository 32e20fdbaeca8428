package io.capo.release;

import io.capo.reservation.Reservation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** Decides which parked addresses to release and which to mark gone; pure, no I/O besides {@link PodLiveness}. */
public final class ReleasePlanner {

    private static final Comparator<Reservation> OLDEST_FIRST =
            Comparator.comparing(Reservation::reservedAt).thenComparing(Reservation::cidr);

    private static final List<String> REASON_ORDER =
            List.of(ReleaseReason.TTL, ReleaseReason.STALE, ReleaseReason.MAX_COUNT, ReleaseReason.POOL_HEADROOM);

    private static final Comparator<Release> RELEASE_ORDER =
            Comparator.<Release>comparingInt(r -> REASON_ORDER.indexOf(r.reason()))
                    .thenComparing(Release::reservation, OLDEST_FIRST);

    /** An entry surviving TTL and stale checks; {@code markedGone} is set when its pod was just found gone. */
    private record Kept(Reservation held, Reservation markedGone) {
    }

    public ReleasePlan plan(Instant now, Collection<Reservation> held, ReleasePolicy policy, PodLiveness liveness) {
        return plan(now, held, policy, PoolHeadroom.NONE, liveness);
    }

    /**
     * As {@link #plan(Instant, Collection, ReleasePolicy, PodLiveness)}, then, per pool of {@code headroom}, the
     * oldest entries beyond the pool's cap are released ({@link ReleaseReason#POOL_HEADROOM}). Entries in no known
     * pool are not counted against any cap.
     */
    public ReleasePlan plan(Instant now, Collection<Reservation> held, ReleasePolicy policy, PoolHeadroom headroom,
                            PodLiveness liveness) {
        Objects.requireNonNull(headroom, "headroom");
        Objects.requireNonNull(now, "now");
        Objects.requireNonNull(held, "held");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(liveness, "liveness");

        List<Release> releases = new ArrayList<>();
        List<Kept> kept = new ArrayList<>(held.size());
        for (Reservation r : held) {
            Objects.requireNonNull(r, "held contains null");
            if (r.goneAt() != null || r.uid().isEmpty()) {
                // adopted entries carry no UID to look up; ttlStart() falls back to reservedAt
                if (elapsed(r.ttlStart(), now, effectiveTtl(r, policy))) {
                    releases.add(new Release(r, ReleaseReason.TTL));
                } else {
                    kept.add(new Kept(r, null));
                }
                continue;
            }
            PodLiveness.State state = liveness.state(r.namespace(), r.pod(), r.uid(), r.cidr());
            if (state == PodLiveness.State.GONE) {
                kept.add(new Kept(r, r.withGoneAt(now)));
            } else if (state == PodLiveness.State.ALIVE && elapsed(r.reservedAt(), now, policy.staleGrace())) {
                releases.add(new Release(r, ReleaseReason.STALE));
            } else {
                // TERMINATING, UNKNOWN (or a null answer), or ALIVE within the grace period
                kept.add(new Kept(r, null));
            }
        }

        int excess = kept.size() - policy.maxCount();
        if (excess > 0) {
            kept.sort(Comparator.comparing(Kept::held, OLDEST_FIRST));
            for (Kept k : kept.subList(0, excess)) {
                releases.add(new Release(k.held(), ReleaseReason.MAX_COUNT));
            }
            kept = kept.subList(excess, kept.size());
        }

        if (!headroom.pools().isEmpty()) {
            kept = new ArrayList<>(kept);
            kept.sort(Comparator.comparing(Kept::held, OLDEST_FIRST));
            Map<PoolHeadroom.Pool, Long> counted = new HashMap<>();
            List<Kept> within = new ArrayList<>(kept.size());
            // newest first: the newest `cap` entries of each pool stay, the older rest goes
            for (int i = kept.size() - 1; i >= 0; i--) {
                Kept k = kept.get(i);
                Optional<PoolHeadroom.Pool> pool = headroom.poolOf(k.held().cidr());
                if (pool.isPresent() && counted.merge(pool.get(), 1L, Long::sum) > pool.get().cap()) {
                    releases.add(new Release(k.held(), ReleaseReason.POOL_HEADROOM));
                } else {
                    within.add(k);
                }
            }
            kept = within;
        }

        List<Reservation> markGone = new ArrayList<>();
        for (Kept k : kept) {
            if (k.markedGone() != null) {
                markGone.add(k.markedGone());
            }
        }
        releases.sort(RELEASE_ORDER);
        markGone.sort(Comparator.comparing(Reservation::cidr));
        return new ReleasePlan(releases, markGone);
    }

    private static Duration effectiveTtl(Reservation r, ReleasePolicy policy) {
        return r.ttl() != null ? r.ttl() : policy.ttlFor(r.namespace());
    }

    /** Whether at least {@code period} has passed from {@code start} to {@code now}; between() cannot overflow, plus() can. */
    private static boolean elapsed(Instant start, Instant now, Duration period) {
        return Duration.between(start, now).compareTo(period) >= 0;
    }
}
