package io.capo.release;

import io.capo.reservation.GoDuration;
import io.capo.logging.Failures;
import io.capo.reservation.Cidrs;
import io.capo.reservation.LedgerStoppedException;
import io.capo.reservation.PodLogContext;
import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationLedger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * One release cycle, run by the release route on the elected leader only: only one replica may decide
 * what to release, otherwise two replicas could each release an address the other just counted.
 * The route can override the policy per call, so release behaviour changes by editing the route.
 */
public final class ReleaseCycle {

    private static final Logger LOG = LoggerFactory.getLogger(ReleaseCycle.class);
    /** Below Capo's shutdown timeout (20 s), so that a stop never has to cut a running cycle short. */
    public static final Duration DEFAULT_WRITE_WAIT = Duration.ofSeconds(10);

    private final ReservationLedger ledger;
    private final PodLiveness liveness;
    private final BooleanSupplier cachesSynced;
    private final Supplier<ReleasePolicy> defaults;
    private final ReleasePlanner planner = new ReleasePlanner();
    private final ReleaseMetrics metrics;
    private final Clock clock;
    private final Duration writeWait;
    /** The write of the last cycle; while it is pending, later cycles are skipped. */
    private volatile CompletableFuture<?> pending = CompletableFuture.completedFuture(null);

    public ReleaseCycle(ReservationLedger ledger, PodLiveness liveness, BooleanSupplier cachesSynced,
                        Supplier<ReleasePolicy> defaults, ReleaseMetrics metrics, Clock clock) {
        this(ledger, liveness, cachesSynced, defaults, metrics, clock, DEFAULT_WRITE_WAIT);
    }

    /**
     * @param writeWait how long a cycle waits for its write before it returns and leaves the write to finish in
     *                  the background. Keep it below the shutdown timeout: Camel rejects (and logs as an error) a
     *                  timer run still in flight when the timeout forces the stop.
     */
    public ReleaseCycle(ReservationLedger ledger, PodLiveness liveness, BooleanSupplier cachesSynced,
                        Supplier<ReleasePolicy> defaults, ReleaseMetrics metrics, Clock clock, Duration writeWait) {
        this.writeWait = writeWait;
        this.ledger = ledger;
        this.liveness = liveness;
        this.cachesSynced = cachesSynced;
        this.defaults = defaults;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Runs with the configured policy. */
    public ReleasePlan run() {
        return run(null, null, null);
    }

    /**
     * Runs with overrides from the route; null or blank means "as configured".
     *
     * @param ttl          Go duration, e.g. {@code 2h}
     * @param maxCount     maximum number of parked addresses
     * @param namespaceTtl per-namespace TTLs, {@code kafka=2h,redis=90m}
     */
    public ReleasePlan run(String ttl, Integer maxCount, String namespaceTtl) {
        if (!cachesSynced.getAsBoolean() || !ledger.synced()) {
            LOG.debug("release cycle skipped: caches not synced yet");
            return new ReleasePlan(List.of(), List.of());
        }
        if (!pending.isDone()) {
            // planning now would release again what the pending write releases, or more under the max-count rule
            metrics.skipped(ReleaseMetrics.WRITE_PENDING);
            LOG.debug("release cycle skipped: the previous cycle's write is still pending");
            return new ReleasePlan(List.of(), List.of());
        }
        ReleasePolicy policy = policy(defaults.get(), ttl, maxCount, namespaceTtl);
        Instant now = clock.instant();
        ledger.repair(now);
        ReleasePlan plan = planner.plan(now, ledger.held(), policy, liveness);
        if (plan.isEmpty()) {
            return plan;
        }
        long start = System.nanoTime();
        CompletableFuture<?> write = ledger.apply(plan.releases().stream().map(Release::reservation).toList(),
                plan.markGone()).whenComplete((ignored, error) -> completed(plan, error, start));
        pending = write;
        try {
            write.get(writeWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (TimeoutException e) {
            LOG.warn("release cycle: the write of {} releases is still pending after {} ms; it goes on in the "
                    + "background and later cycles are skipped until it completes", plan.releases().size(),
                    writeWait.toMillis());
        } catch (ExecutionException e) {
            // logged and counted by completed(...)
        }
        return plan;
    }

    private void completed(ReleasePlan plan, Throwable error, long start) {
        if (Failures.unwrap(error) instanceof LedgerStoppedException) {
            // nothing is lost: the entries stay in the IPReservation and the next leader releases them
            LOG.warn("release cycle: Capo stopped before the write of {} releases completed; the addresses stay "
                    + "parked until the next leader releases them", plan.releases().size());
            return;
        }
        if (error != null) {
            metrics.failure("release");
            LOG.error("release cycle could not write {} releases and {} gone marks after {} ms; the addresses stay "
                            + "parked and the next cycle tries again: {}", plan.releases().size(),
                    plan.markGone().size(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                    Failures.describe(error));
            return;
        }
        for (Release release : plan.releases()) {
            Reservation released = release.reservation();
            try (PodLogContext ignored = PodLogContext.of(released.namespace(), released.pod(), released.cidr())) {
                LOG.info("released IP {} of pod {} ({})", Cidrs.address(released.cidr()), released.podKey(),
                        release.reason());
            }
        }
        for (String reason : new String[]{ReleaseReason.TTL, ReleaseReason.STALE, ReleaseReason.MAX_COUNT,
                ReleaseReason.POOL_HEADROOM}) {
            int count = (int) plan.count(reason);
            if (count > 0) {
                metrics.released(reason, count);
            }
        }
    }

    static ReleasePolicy policy(ReleasePolicy base, String ttl, Integer maxCount, String namespaceTtl) {
        Duration effectiveTtl = ttl == null || ttl.isBlank() ? base.ttl() : GoDuration.parse(ttl.trim());
        int effectiveMax = maxCount == null ? base.maxCount() : maxCount;
        Map<String, Duration> perNamespace = new LinkedHashMap<>(base.namespaceTtl());
        perNamespace.putAll(parseNamespaceTtl(namespaceTtl));
        return new ReleasePolicy(effectiveTtl, effectiveMax, base.staleGrace(), perNamespace);
    }

    /** {@code kafka=2h, redis=90m} → map; a malformed pair is an error naming it. */
    static Map<String, Duration> parseNamespaceTtl(String text) {
        Map<String, Duration> out = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        for (String pair : text.split(",")) {
            String trimmed = pair.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            int eq = trimmed.indexOf('=');
            if (eq <= 0 || eq == trimmed.length() - 1) {
                throw new IllegalArgumentException("namespace TTL '" + trimmed + "' is not namespace=duration");
            }
            out.put(trimmed.substring(0, eq).trim(), GoDuration.parse(trimmed.substring(eq + 1).trim()));
        }
        return out;
    }
}
