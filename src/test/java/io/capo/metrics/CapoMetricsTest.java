package io.capo.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class CapoMetricsTest {

    final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    final CapoMetrics metrics = new CapoMetrics(registry, () -> 3, "capo");

    @Test
    void goCapoNamesKeepTheirPrometheusNames() {
        metrics.maxCount(300);
        metrics.released("max-count", 2);
        String text = registry.scrape();
        assertThat(text).contains("ip_reserve_count 3.0", "ip_reserve_count_max 300.0",
                "ip_reserve_evictions_count 2.0", "leader_election_master_status{name=\"capo\"} 0.0");
    }

    @Test
    void everyWriteIsCountedAndTimedPerObject() {
        metrics.write("ip-reserve-delay-release", TimeUnit.MILLISECONDS.toNanos(40));
        metrics.write("ip-reserve-delay-release", TimeUnit.MILLISECONDS.toNanos(400));
        String text = registry.scrape();
        assertThat(text).contains("capo_ipreservation_writes_total{object=\"ip-reserve-delay-release\"} 2.0",
                "capo_ipreservation_write_duration_seconds_count{object=\"ip-reserve-delay-release\"} 2",
                "capo_ipreservation_write_duration_seconds_bucket{object=\"ip-reserve-delay-release\",le=\"0.044739241\"} 1",
                "capo_ipreservation_write_duration_seconds_bucket{object=\"ip-reserve-delay-release\",le=\"0.447392426\"} 2");
    }

    /** What an alert or a panel counts exists at 0 before its first increment, so increase() sees that one. */
    @Test
    void countersTheAlertsWatchStartAtZero() {
        String text = registry.scrape();
        assertThat(text).contains("capo_webhook_requests_total{operation=\"delete\",result=\"denied\"} 0.0",
                "capo_webhook_requests_total{operation=\"eviction\",result=\"failed-open\"} 0.0",
                "capo_webhook_requests_total{operation=\"unknown\",result=\"bad-request\"} 0.0",
                "capo_failures_total{stage=\"write\"} 0.0", "capo_failures_total{stage=\"backstop\"} 0.0",
                "capo_late_reservations_total 0.0", "capo_release_cycles_skipped_total{reason=\"write-pending\"} 0.0",
                "capo_webhook_unconfirmed_total{reason=\"not-found\"} 0.0",
                "capo_webhook_certificate_reload_refused_total{reason=\"client-ca-unreadable\"} 0.0",
                "capo_webhook_connections_closed_total{reason=\"tls-handshake-failed\"} 0.0");
        metrics.objects(java.util.List.of("ip-reserve-delay-release"));
        assertThat(registry.scrape()).contains(
                "capo_ipreservation_writes_total{object=\"ip-reserve-delay-release\"} 0.0",
                "capo_ipreservation_conflicts_total{object=\"ip-reserve-delay-release\"} 0.0",
                "capo_reservedip_writes_total 0.0");
        metrics.request("delete", "denied", TimeUnit.MILLISECONDS.toNanos(5));
        metrics.failure("write");
        metrics.late(2);
        assertThat(registry.scrape()).contains("capo_webhook_requests_total{operation=\"delete\",result=\"denied\"} 1.0",
                "capo_failures_total{stage=\"write\"} 1.0", "capo_late_reservations_total 2.0");
    }
}
