package io.capo.metrics;

import io.capo.config.ConfigException;
import io.capo.config.ConfigMetrics;
import io.capo.events.BackstopMetrics;
import io.capo.calico.StoreMetrics;
import io.capo.release.ReleaseMetrics;
import io.capo.release.ReleaseReason;
import io.capo.webhook.AdmissionOutcome;
import io.capo.webhook.WebhookMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * Capo's meters. The first four keep the Go Capo's names so existing dashboards and alerts work; the
 * Prometheus registry appends {@code _total} to counters, so the Go Capo's counter
 * {@code ip_reserve_evictions_count} is published as a gauge holding the running total to keep its name.
 */
public final class CapoMetrics implements WebhookMetrics, StoreMetrics, BackstopMetrics, ReleaseMetrics,
        ConfigMetrics {

    public static final String IP_RESERVE_COUNT = "ip_reserve_count";
    public static final String IP_RESERVE_COUNT_MAX = "ip_reserve_count_max";
    public static final String IP_RESERVE_EVICTIONS_COUNT = "ip_reserve_evictions_count";
    public static final String LEADER_STATUS = "leader_election_master_status";
    public static final String RESERVATIONS = "capo_reservations";
    public static final String RELEASES = "capo_releases";
    public static final String RELEASE_CYCLES_SKIPPED = "capo_release_cycles_skipped";
    public static final String WEBHOOK_REQUESTS = "capo_webhook_requests";
    public static final String WEBHOOK_DURATION = "capo_webhook_duration";
    public static final String LATE_RESERVATIONS = "capo_late_reservations";
    public static final String FAILURES = "capo_failures";
    public static final String WRITES = "capo_ipreservation_writes";
    public static final String CONFLICTS = "capo_ipreservation_conflicts";
    public static final String WRITE_DURATION = "capo_ipreservation_write_duration";
    public static final String WEBHOOK_UNCONFIRMED = "capo_webhook_unconfirmed";
    public static final String CACHE_NAMESPACES = "capo_cache_watched_namespaces";
    public static final String CACHE_PODS = "capo_cache_pods";
    public static final String CERTIFICATE_RELOAD_REFUSED = "capo_webhook_certificate_reload_refused";
    public static final String WEBHOOK_CONNECTIONS = "capo_webhook_connections";
    public static final String WEBHOOK_CONNECTIONS_CLOSED = "capo_webhook_connections_closed";
    public static final String CONFIG_RELOAD_REFUSED = "capo_config_reload_refused";
    public static final String ROUTES_RELOAD_REFUSED = "capo_routes_reload_refused";
    /** Reasons a routes directory change is refused, published at 0 from the start so that increase() works. */
    public static final List<String> ROUTES_REFUSAL_REASONS = List.of("empty", "required-route-missing",
            "invalid", "start-failed");
    private static final List<String> CONFIG_REFUSAL_REASONS = List.of(ConfigException.EMPTY,
            ConfigException.KEYS_DROPPED, ConfigException.INVALID, ConfigException.UNREADABLE);
    public static final String METADATA_WRITES = "capo_reservedip_writes";
    /*
     * Label values of the counters the alert rules and the dashboard watch, published at 0 from the start. A counter
     * that appears only with its first increment enters Prometheus at 1 (or more), and increase()/rate() never see
     * that first step: a replica's first refused deletion, first failed write or first late reservation would not
     * alert (PrometheusIT proves the alerts fire on the first one).
     */
    private static final List<String> WEBHOOK_OPERATIONS = List.of("delete", "eviction", "other", "unknown");
    private static final List<String> WEBHOOK_FAILED_RESULTS = Stream.of(AdmissionOutcome.DENIED,
            AdmissionOutcome.FAILED_OPEN, AdmissionOutcome.BAD_REQUEST).map(AdmissionOutcome::label).toList();
    private static final List<String> FAILURE_STAGES = List.of("write", "release", "backstop");
    private static final List<String> UNCONFIRMED_REASONS = List.of("not-found", "uid", "ip", "name");
    private static final List<String> CERTIFICATE_REFUSAL_REASONS = List.of("unreadable", "key-mismatch", "expired",
            "update-failed", "client-ca-unreadable", "client-ca-update-failed");
    private static final List<String> CONNECTION_CLOSE_REASONS = List.of("request-timeout", "idle-timeout",
            "connection-limit", "body-too-large", "tls-handshake-failed", "client-not-allowed");

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
        CONFIG_REFUSAL_REASONS.forEach(this::configRefused);
        ROUTES_REFUSAL_REASONS.forEach(this::routesRefused);
        WEBHOOK_OPERATIONS.forEach(operation -> WEBHOOK_FAILED_RESULTS.forEach(result -> requests(operation, result)));
        FAILURE_STAGES.forEach(this::failures);
        lateReservations();
        skippedCycles(WRITE_PENDING);
        UNCONFIRMED_REASONS.forEach(this::unconfirmedReviews);
        CERTIFICATE_REFUSAL_REASONS.forEach(this::certificateRefusals);
        CONNECTION_CLOSE_REASONS.forEach(this::closedConnections);
    }

    /** The informer caches' size: namespaces whose pods are watched, and pods cached. */
    public void cache(IntSupplier watchedNamespaces, IntSupplier pods) {
        Gauge.builder(CACHE_NAMESPACES, watchedNamespaces::getAsInt)
                .description("Opted-in namespaces whose pods Capo watches").register(registry);
        Gauge.builder(CACHE_PODS, pods::getAsInt).description("Pods in Capo's cache (opted-in namespaces only)")
                .register(registry);
    }

    public void maxCount(int value) {
        maxCount.set(value);
    }

    public void leader(boolean isLeader) {
        leader.set(isLeader ? 1 : 0);
    }

    @Override
    public void request(String operation, String result, long nanos) {
        requests(operation, result).increment();
        Timer.builder(WEBHOOK_DURATION).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    private Counter requests(String operation, String result) {
        return Counter.builder(WEBHOOK_REQUESTS).description("Admission reviews answered")
                .tag("operation", operation).tag("result", result).register(registry);
    }

    @Override
    public void reserved(String reason, int count) {
        Counter.builder(RESERVATIONS).description("Addresses parked, by reason").tag("reason", reason)
                .register(registry).increment(count);
    }

    @Override
    public void unconfirmed(String reason) {
        unconfirmedReviews(reason).increment();
    }

    private Counter unconfirmedReviews(String reason) {
        return Counter.builder(WEBHOOK_UNCONFIRMED).description("Admission reviews whose pod the cluster did not "
                + "confirm (nothing written), by what did not match").tag("reason", reason).register(registry);
    }

    @Override
    public void late(int count) {
        lateReservations().increment(count);
    }

    private Counter lateReservations() {
        return Counter.builder(LATE_RESERVATIONS).description("Addresses parked only after their pod was gone")
                .register(registry);
    }

    @Override
    public void failure(String stage) {
        failures(stage).increment();
    }

    private Counter failures(String stage) {
        return Counter.builder(FAILURES).description("Failures, by stage").tag("stage", stage).register(registry);
    }

    @Override
    public void skipped(String reason) {
        skippedCycles(reason).increment();
    }

    private Counter skippedCycles(String reason) {
        return Counter.builder(RELEASE_CYCLES_SKIPPED).description("Release cycles that did not run, by reason")
                .tag("reason", reason).register(registry);
    }

    @Override
    public void released(String reason, int count) {
        Counter.builder(RELEASES).description("Addresses released, by reason").tag("reason", reason)
                .register(registry).increment(count);
        if (ReleaseReason.MAX_COUNT.equals(reason)) {
            evictions.addAndGet(count);
        }
    }

    /** Publishes the write and conflict counters of the IPReservation objects at 0 (see the lists above). */
    public void objects(List<String> names) {
        names.forEach(object -> {
            writes(object);
            conflicts(object);
        });
        metadataWrites();
    }

    private Counter writes(String object) {
        return Counter.builder(WRITES).description("Writes to IPReservation objects").tag("object", object)
                .register(registry);
    }

    private Counter conflicts(String object) {
        return Counter.builder(CONFLICTS).description("resourceVersion conflicts when writing IPReservation objects")
                .tag("object", object).register(registry);
    }

    private Counter metadataWrites() {
        return Counter.builder(METADATA_WRITES).description("Writes of ReservedIP objects (reservation metadata, "
                + "written after the address is parked)").register(registry);
    }

    @Override
    public void write(String object, long nanos) {
        writes(object).increment();
        Timer.builder(WRITE_DURATION).description("Time of one write to an IPReservation object (the webhook waits "
                        + "for one, or two when a write is already under way)").tag("object", object)
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void conflict(String object) {
        conflicts(object).increment();
    }

    @Override
    public void configReloadRefused(String reason) {
        configRefused(reason).increment();
    }

    /** A routes directory change was refused; the previous routes keep running. */
    public void routesReloadRefused(String reason) {
        routesRefused(reason).increment();
    }

    private Counter configRefused(String reason) {
        return Counter.builder(CONFIG_RELOAD_REFUSED).description("Config file changes refused (the last good "
                + "config stays in force), by reason").tag("reason", reason).register(registry);
    }

    private Counter routesRefused(String reason) {
        return Counter.builder(ROUTES_RELOAD_REFUSED).description("Routes directory changes refused (the "
                + "previous routes keep running), by reason").tag("reason", reason).register(registry);
    }

    @Override
    public void writeFailure(String object) {
        failure("write");
    }

    /** A changed webhook certificate that was not swapped in, by reason (unreadable, key-mismatch, expired, ...). */
    public void certificateRefused(String reason) {
        certificateRefusals(reason).increment();
    }

    private Counter certificateRefusals(String reason) {
        return Counter.builder(CERTIFICATE_RELOAD_REFUSED).description("Webhook certificate changes refused, by reason")
                .tag("reason", reason).register(registry);
    }

    /** Open connections to the webhook server. */
    public void webhookConnections(IntSupplier open) {
        Gauge.builder(WEBHOOK_CONNECTIONS, open::getAsInt).description("Open connections to the webhook server")
                .register(registry);
    }

    /** A webhook connection Capo closed, by reason (request-timeout, idle-timeout, connection-limit, body-too-large). */
    public void webhookConnectionClosed(String reason) {
        closedConnections(reason).increment();
    }

    private Counter closedConnections(String reason) {
        return Counter.builder(WEBHOOK_CONNECTIONS_CLOSED).description("Webhook connections closed by Capo, by reason")
                .tag("reason", reason).register(registry);
    }

    @Override
    public void metadataWrite(long nanos) {
        metadataWrites().increment();
    }
}
