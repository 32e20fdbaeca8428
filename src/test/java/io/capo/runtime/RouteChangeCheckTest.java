package io.capo.runtime;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RouteChangeCheckTest {

    static final String ROUTE = "- route:\n    id: release\n    from:\n      uri: direct:x\n";

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"", " \n\t\n", "# emptied by a truncated write\n", "---\n", "--- # x\n---\n", "null\n",
            "[]\n", "{}\n", "~\n"})
    void contentless(String yaml) {
        assertThat(RouteChangeCheck.contentless(yaml)).isTrue();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {ROUTE, "---\n---\n" + ROUTE, "- route: [not yaml\n", "x\n"})
    void withContent(String yaml) {
        assertThat(RouteChangeCheck.contentless(yaml)).isFalse();
    }

    @Test
    void noFilesOrAnEmptiedFileIsRefused() {
        assertThat(RouteChangeCheck.content("/etc/capo/routes", Map.of())).hasValueSatisfying(r -> {
            assertThat(r.reason()).isEqualTo("empty");
            assertThat(r.message()).isEqualTo("/etc/capo/routes: no route files (*.yaml, *.yml) left");
        });
        Map<String, String> files = new LinkedHashMap<>();
        files.put("file:/r/admission-webhook.camel.yaml", "");
        files.put("file:/r/release.camel.yaml", ROUTE);
        files.put("file:/r/x.yaml", "# nothing\n");
        assertThat(RouteChangeCheck.content("/r", files)).hasValueSatisfying(r -> {
            assertThat(r.reason()).isEqualTo("empty");
            assertThat(r.message()).startsWith("file:/r/admission-webhook.camel.yaml, file:/r/x.yaml: no content");
        });
        assertThat(RouteChangeCheck.content("/r", Map.of("file:/r/release.camel.yaml", ROUTE))).isEmpty();
    }

    static Map<String, String> bundled() {
        Map<String, String> from = new LinkedHashMap<>();
        from.put("admission-webhook", "platform-http:/pod-ip-reservation");
        from.put("kubernetes-pod-events", "direct:pod-events");
        from.put("kubernetes-node-deleted", "direct:node-deleted");
        from.put("release", "master:capo-release:quartz:capo/release");
        return from;
    }

    @Test
    void everyRequiredRouteMustStayDefined() {
        Map<String, String> extra = bundled();
        extra.put("my-extra-route", "direct:x");
        assertThat(RouteChangeCheck.required(extra)).isEmpty();
        Map<String, String> withoutWebhook = bundled();
        withoutWebhook.remove("admission-webhook");
        assertThat(RouteChangeCheck.required(withoutWebhook)).hasValueSatisfying(r -> {
            assertThat(r.reason()).isEqualTo("required-route-missing");
            assertThat(r.message()).startsWith("the required route admission-webhook is no longer defined");
        });
        assertThat(RouteChangeCheck.required(Map.of())).hasValueSatisfying(r -> assertThat(r.message())
                .startsWith("the required routes admission-webhook, kubernetes-pod-events, kubernetes-node-deleted, "
                        + "release are no longer defined"));
    }

    @Test
    void theWebhookRouteMustKeepItsPath() {
        Map<String, String> options = bundled();
        options.put("admission-webhook", "platform-http:/pod-ip-reservation?httpMethodRestrict=POST");
        assertThat(RouteChangeCheck.required(options)).isEmpty();
        for (String from : List.of("platform-http:/pod-ip-reservation-v2", "platform-http:/other", "direct:x")) {
            Map<String, String> moved = bundled();
            moved.put("admission-webhook", from);
            assertThat(RouteChangeCheck.required(moved)).as(from).hasValueSatisfying(r -> assertThat(r.message())
                    .isEqualTo("route admission-webhook no longer listens on platform-http:/pod-ip-reservation "
                            + "(from: " + from + "), the path the API server calls"));
        }
    }

    @Test
    void everyReasonIsPublishedFromTheStart() {
        assertThat(io.capo.metrics.CapoMetrics.ROUTES_REFUSAL_REASONS).containsExactlyInAnyOrder(RouteChangeCheck.EMPTY,
                RouteChangeCheck.REQUIRED_ROUTE_MISSING, RouteChangeCheck.INVALID, RouteChangeCheck.START_FAILED);
    }
}
