package io.capo.runtime;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Capo's own health checks: the watch consumers and {@code master:} bring none of their own. */
final class CapoHealthChecks {

    private CapoHealthChecks() {
    }

    /** Ready once the informer caches and the reservation objects are synced and the webhook path is warm. */
    static AbstractHealthCheck readiness(BooleanSupplier cachesSynced, BooleanSupplier ledgerSynced,
                                         BooleanSupplier warm) {
        return new AbstractHealthCheck("capo", "capo-caches") {
            @Override
            public boolean isLiveness() {
                return false;
            }

            @Override
            protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
                builder.detail("caches.synced", cachesSynced.getAsBoolean());
                builder.detail("reservations.synced", ledgerSynced.getAsBoolean());
                builder.detail("warm", warm.getAsBoolean());
                if (cachesSynced.getAsBoolean() && ledgerSynced.getAsBoolean() && warm.getAsBoolean()) {
                    builder.up();
                } else {
                    builder.down();
                }
            }
        };
    }

    /**
     * Live while the leader-election loop makes progress. Never tied to being leader: a leader that failed
     * its probes would lose leadership only to be restarted.
     */
    static AbstractHealthCheck electionLoop(Supplier<Instant> lastActivity, Duration stallAfter, Clock clock) {
        return new AbstractHealthCheck("capo", "capo-leader-election") {
            @Override
            public boolean isReadiness() {
                return false;
            }

            @Override
            public boolean isLiveness() {
                return true;
            }

            @Override
            protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
                Instant last = lastActivity.get();
                builder.detail("last.activity", String.valueOf(last));
                if (last == null || last.plus(stallAfter).isAfter(clock.instant())) {
                    builder.up();
                } else {
                    builder.message("leader election loop made no progress since " + last);
                    builder.down();
                }
            }
        };
    }
}
