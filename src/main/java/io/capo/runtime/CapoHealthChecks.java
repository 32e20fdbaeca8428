package io.capo.runtime;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** Capo's own health checks: the watch consumers and {@code master:} bring none of their own. */
final class CapoHealthChecks {

    private CapoHealthChecks() {
    }

    /** Ready once the informer caches and the reservation objects are synced and the webhook path is warm. */
    static AbstractHealthCheck readiness(BooleanSupplier cachesSynced, BooleanSupplier ledgerSynced,
                                         BooleanSupplier warm) {
        return check("capo-caches", false, builder -> {
            builder.detail("caches.synced", cachesSynced.getAsBoolean());
            builder.detail("reservations.synced", ledgerSynced.getAsBoolean());
            builder.detail("warm", warm.getAsBoolean());
            if (cachesSynced.getAsBoolean() && ledgerSynced.getAsBoolean() && warm.getAsBoolean()) {
                builder.up();
            } else {
                builder.down();
            }
        });
    }

    /**
     * Ready while the webhook is served: {@code POST /pod-ip-reservation} is routed to a started
     * {@code admission-webhook} route. Without it the API server gets 404 and, with {@code failurePolicy: Fail},
     * refuses deletions: a replica that does not serve it must get no traffic.
     */
    static AbstractHealthCheck webhookServed(BooleanSupplier served) {
        return check("capo-webhook", false, builder -> {
            if (served.getAsBoolean()) {
                builder.up();
            } else {
                builder.message("the webhook POST " + RouteProbes.WEBHOOK_PATH + " is not served (route "
                        + RouteChangeCheck.WEBHOOK_ROUTE + " missing or stopped)");
                builder.down();
            }
        });
    }

    /**
     * On the leader, live only while the release route exists and runs: a leader without it would hold the Lease
     * and release nothing, ever. A follower is always live by this check; readiness never depends on leadership.
     * {@code contextStarted} keeps the check quiet while routes are still being started.
     */
    static AbstractHealthCheck releaseRoute(BooleanSupplier leader, BooleanSupplier contextStarted,
                                            BooleanSupplier releaseRouteStarted) {
        return check("capo-release-route", true, builder -> {
            boolean leading = leader.getAsBoolean();
            builder.detail("leader", leading);
            if (!leading || !contextStarted.getAsBoolean() || releaseRouteStarted.getAsBoolean()) {
                builder.up();
            } else {
                builder.message("this replica leads but route " + RouteChangeCheck.RELEASE_ROUTE
                        + " is missing or stopped: nothing is released");
                builder.down();
            }
        });
    }

    /**
     * Live while the leader-election loop makes progress. Never tied to being leader: a leader that failed
     * its probes would lose leadership only to be restarted.
     */
    static AbstractHealthCheck electionLoop(Supplier<Instant> lastActivity, Duration stallAfter, Clock clock) {
        return check("capo-leader-election", true, builder -> {
            Instant last = lastActivity.get();
            builder.detail("last.activity", String.valueOf(last));
            if (last == null || last.plus(stallAfter).isAfter(clock.instant())) {
                builder.up();
            } else {
                builder.message("leader election loop made no progress since " + last);
                builder.down();
            }
        });
    }

    /** A check of group {@code capo} that counts for liveness only, or for readiness only. */
    private static AbstractHealthCheck check(String id, boolean liveness, Consumer<HealthCheckResultBuilder> call) {
        return new AbstractHealthCheck("capo", id) {
            @Override
            public boolean isReadiness() {
                return !liveness;
            }

            @Override
            public boolean isLiveness() {
                return liveness;
            }

            @Override
            protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
                call.accept(builder);
            }
        };
    }
}
