package io.capo.release;

import io.capo.reservation.Reservation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/** Decides which parked addresses to release and which to mark gone; pure, no I/O besides {@link PodLiveness}. */
public final class ReleasePlanner {

    private static final Comparator<Reservation> OLDEST_FIRST =
            Comparator.comparing(Reservation::reservedAt).thenComparing(Reservation::cidr);

    private static final List<String> REASON_ORDER =
            List.of(ReleaseReason.TTL, ReleaseReason.STALE, ReleaseReason.MAX_COUNT);

    private static final Comparator<Release> RELEASE_ORDER =
            Comparator.<Release>comparingInt(r -> REASON_ORDER.indexOf(r.reason()))
                    .thenComparing(Release::reservation, OLDEST_FIRST);

    /** An entry surviving TTL and stale checks; {@code markedGone} is set when its pod was just found gone. */
    private record Kept(Reservation held, Reservation markedGone) {
    }

    public ReleasePlan plan(Instant now, Collection<Reservation> held, ReleasePolicy policy, PodLiveness liveness) {
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
