package io.capo.metrics;

import io.capo.events.BackstopMetrics;
import io.capo.kubernetes.StoreMetrics;
import io.capo.release.ReleaseMetrics;
import io.capo.release.ReleaseReason;
import io.capo.webhook.WebhookMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * Capo's meters. The first four keep the Go Capo's names so existing dashboards and alerts work; the
 * Prometheus registry appends {@code _total} to counters, so the Go Capo's counter
 * {@code ip_reserve_evictions_count} is published as a gauge holding the running total to keep its name.
 */
public final class CapoMetrics implements WebhookMetrics, StoreMetrics, BackstopMetrics, ReleaseMetrics {

    public static final String IP_RESERVE_COUNT = "ip_reserve_count";
    public static final String IP_RESERVE_COUNT_MAX = "ip_reserve_count_max";
    public static final String IP_RESERVE_EVICTIONS_COUNT = "ip_reserve_evictions_count";
    public static final String LEADER_STATUS = "leader_election_master_status";
    public static final String RESERVATIONS = "capo_reservations";
    public static final String RELEASES = "capo_releases";
    public static final String WEBHOOK_REQUESTS = "capo_webhook_requests";
    public static final String WEBHOOK_DURATION = "capo_webhook_duration";
    public static final String LATE_RESERVATIONS = "capo_late_reservations";
    public static final String FAILURES = "capo_failures";
    public static final String WRITES = "capo_ipreservation_writes";
    public static final String CONFLICTS = "capo_ipreservation_conflicts";
    public static final String WRITE_DURATION = "capo_ipreservation_write_duration";
    public static final String METADATA_WRITES = "capo_reservedip_writes";

    private final MeterRegistry registry;
    private final AtomicLong evictions = new AtomicLong();
    private final AtomicInteger maxCount = new AtomicInteger();
    private final AtomicInteger leader = new AtomicInteger();

    public CapoMetrics(MeterRegistry registry, IntSupplier heldCount, String leaseName) {
        this.registry = registry;
        Gauge.builder(IP_RESERVE_COUNT, heldCount::getAsInt).description("Number of ip reserve").register(registry);
        Gauge.builder(IP_RESERVE_COUNT_MAX, maxCount::get).description("ip reserve count max number")
                .register(registry);
        Gauge.builder(IP_RESERVE_EVICTIONS_COUNT, evictions::get)
                .description("Number of IP addresses that were released forcibly because the number of held IP "
                        + "addresses reached the retention threshold (running total)")
                .register(registry);
        Gauge.builder(LEADER_STATUS, leader::get).tag("name", leaseName)
                .description("Gauge of if the reporting system is master of the relevant lease, 0 indicates "
                        + "backup, 1 indicates master. 'name' is the string used to identify the lease.")
                .register(registry);
        Timer.builder(WEBHOOK_DURATION).description("Time to answer an admission review")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(registry);
    }

    public void maxCount(int value) {
        maxCount.set(value);
    }

    public void leader(boolean isLeader) {
        leader.set(isLeader ? 1 : 0);
    }

    @Override
    public void request(String operation, String result, long nanos) {
        Counter.builder(WEBHOOK_REQUESTS).description("Admission reviews answered")
                .tag("operation", operation).tag("result", result).register(registry).increment();
        Timer.builder(WEBHOOK_DURATION).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void reserved(String reason, int count) {
        Counter.builder(RESERVATIONS).description("Addresses parked, by reason").tag("reason", reason)
                .register(registry).increment(count);
    }

    @Override
    public void late(int count) {
        Counter.builder(LATE_RESERVATIONS).description("Addresses parked only after their pod was gone")
                .register(registry).increment(count);
    }

    @Override
    public void failure(String stage) {
        Counter.builder(FAILURES).description("Failures, by stage").tag("stage", stage).register(registry).increment();
    }

    @Override
    public void released(String reason, int count) {
        Counter.builder(RELEASES).description("Addresses released, by reason").tag("reason", reason)
                .register(registry).increment(count);
        if (ReleaseReason.MAX_COUNT.equals(reason)) {
            evictions.addAndGet(count);
        }
    }

    @Override
    public void write(String object, long nanos) {
        Counter.builder(WRITES).description("Writes to IPReservation objects").tag("object", object)
                .register(registry).increment();
        Timer.builder(WRITE_DURATION).description("Time of one write to an IPReservation object (the webhook waits "
                        + "for one, or two when a write is already under way)").tag("object", object)
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void conflict(String object) {
        Counter.builder(CONFLICTS).description("resourceVersion conflicts when writing IPReservation objects")
                .tag("object", object).register(registry).increment();
    }

    @Override
    public void writeFailure(String object) {
        failure("write");
    }

    @Override
    public void metadataWrite(long nanos) {
        Counter.builder(METADATA_WRITES).description("Writes of ReservedIP objects (reservation metadata, written "
                + "after the address is parked)").register(registry).increment();
    }
}
