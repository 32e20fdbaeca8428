package io.capo.runtime;

import org.apache.camel.health.HealthCheck;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

class CapoHealthChecksTest {

    static HealthCheck.State state(AbstractHealthCheck check) {
        check.setCamelContext(new DefaultCamelContext());
        return check.call().getState();
    }

    @Test
    void readinessFollowsTheWebhookPathOnly() {
        AtomicBoolean served = new AtomicBoolean(true);
        AbstractHealthCheck check = CapoHealthChecks.webhookServed(served::get);
        assertThat(check.isReadiness()).isTrue();
        assertThat(check.isLiveness()).isFalse();
        assertThat(state(check)).isEqualTo(HealthCheck.State.UP);
        served.set(false);
        assertThat(state(check)).isEqualTo(HealthCheck.State.DOWN);
        assertThat(check.call().getMessage()).hasValue(
                "the webhook POST /pod-ip-reservation is not served (route admission-webhook missing or stopped)");
    }

    @Test
    void livenessNeedsTheReleaseRouteOnTheLeaderOnly() {
        AtomicBoolean leader = new AtomicBoolean(false);
        AtomicBoolean started = new AtomicBoolean(true);
        AtomicBoolean route = new AtomicBoolean(false);
        AbstractHealthCheck check = CapoHealthChecks.releaseRoute(leader::get, started::get, route::get);
        assertThat(check.isLiveness()).isTrue();
        assertThat(check.isReadiness()).as("readiness never depends on leadership").isFalse();
        assertThat(state(check)).as("a follower without the route").isEqualTo(HealthCheck.State.UP);
        leader.set(true);
        assertThat(state(check)).as("a leader without the route").isEqualTo(HealthCheck.State.DOWN);
        started.set(false);
        assertThat(state(check)).as("while the context starts").isEqualTo(HealthCheck.State.UP);
        started.set(true);
        route.set(true);
        assertThat(state(check)).isEqualTo(HealthCheck.State.UP);
    }
}
