package io.capo.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Helm's recommended labels (https://helm.sh/docs/chart_best_practices/labels/) on every object the chart renders,
 * pod templates included, for several value combinations; and selectors made of the two labels that never change
 * for a release (name and instance), so that an upgrade never needs a new Deployment selector.
 */
class ChartLabelsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> COMPONENTS = Set.of("controller", "webhook", "metrics", "monitoring", "test");

    record Case(String description, Path valuesFile, String release, Map<String, Object> set, String name) {
        @Override
        public String toString() {
            return description;
        }
    }

    static Stream<Arguments> cases() {
        Path root = ChartRenderer.projectRoot();
        Map<String, Object> optional = new TreeMap<>(Map.of("flowControl.enabled", true,
                "webhook.matchConditions.enabled", true, "webhook.certManager.enabled", false,
                "webhook.generatedCert.reuseExisting", false, "webhook.generatedCert.keyAlgorithm", "ECDSA",
                "autoscaling.enabled", true, "serviceMonitor.enabled", true, "prometheusRule.enabled", true,
                "grafanaDashboard.enabled", true, "rbac.events", true));
        return Stream.of(
                new Case("defaults", null, "capo", Map.of(), "capo"),
                new Case("every option", root.resolve(HelmChartTest.ALL_OPTIONS), "capo", Map.of(), "ipres"),
                new Case("optional objects, generated certificate", null, "capo-two", optional, "capo"),
                new Case("Go Capo values", root.resolve(GoCapoValuesTest.GO_VALUES), "ip-reserve", Map.of(), "capo"),
                new Case("nameOverride and commonLabels", null, "edge", Map.of("nameOverride", "parker",
                        "commonLabels.team", "network", "image.tag", "9.9.9"), "parker")
        ).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everyObjectCarriesTheRecommendedLabels(Case c) {
        List<JsonNode> objects = render(c);
        assertThat(objects).hasSizeGreaterThan(10);
        for (JsonNode o : objects) {
            String what = o.path("kind").asText() + "/" + o.path("metadata").path("name").asText();
            assertRecommended(what, o.path("metadata").path("labels"), c);
            JsonNode template = o.path("spec").path("template");
            if (!template.isMissingNode()) {
                assertRecommended(what + " pod template", template.path("metadata").path("labels"), c);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void selectorsAreNameAndInstanceOnly(Case c) {
        Map<String, String> stable = Map.of("app.kubernetes.io/name", c.name(), "app.kubernetes.io/instance", c.release());
        List<String> checked = new ArrayList<>();
        for (JsonNode o : render(c)) {
            String kind = o.path("kind").asText();
            JsonNode spec = o.path("spec");
            JsonNode selector = switch (kind) {
                case "Deployment", "PodDisruptionBudget" -> spec.path("selector").path("matchLabels");
                case "Service" -> spec.path("selector");
                case "NetworkPolicy" -> spec.path("podSelector").path("matchLabels");
                default -> null;
            };
            if (selector == null) {
                continue;
            }
            checked.add(kind);
            assertThat(JSON.convertValue(selector, Map.class)).as("selector of %s", kind).isEqualTo(stable);
            if (kind.equals("Deployment")) {
                assertThat(selector.has("matchExpressions")).isFalse();
                JsonNode podLabels = spec.path("template").path("metadata").path("labels");
                stable.forEach((k, v) -> assertThat(podLabels.path(k).asText()).as("pod label %s", k).isEqualTo(v));
            }
        }
        assertThat(checked).contains("Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget");
    }

    /** The selector does not depend on the chart or app version, the image or any label value a user may add. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theDeploymentSelectorSurvivesAnUpgrade(Case c) {
        JsonNode before = deploymentSelector(render(c));
        Map<String, Object> upgraded = new TreeMap<>(c.set());
        upgraded.put("image.tag", "10.0.0");
        upgraded.put("podLabels.extra", "yes");
        upgraded.put("commonLabels.cost-center", "42a");
        JsonNode after = deploymentSelector(render(new Case(c.description(), c.valuesFile(), c.release(), upgraded, c.name())));
        assertThat(after).isEqualTo(before);
    }

    private static JsonNode deploymentSelector(List<JsonNode> objects) {
        return objects.stream().filter(o -> o.path("kind").asText().equals("Deployment")).findFirst().orElseThrow()
                .path("spec").path("selector");
    }

    private static void assertRecommended(String what, JsonNode labels, Case c) {
        assertThat(labels.path("app.kubernetes.io/name").asText()).as("%s name", what).isEqualTo(c.name());
        assertThat(labels.path("app.kubernetes.io/instance").asText()).as("%s instance", what).isEqualTo(c.release());
        assertThat(labels.path("app.kubernetes.io/version").asText()).as("%s version", what).isEqualTo("0.1.0");
        assertThat(labels.path("app.kubernetes.io/part-of").asText()).as("%s part-of", what).isEqualTo("capo");
        assertThat(labels.path("app.kubernetes.io/managed-by").asText()).as("%s managed-by", what).isEqualTo("Helm");
        assertThat(labels.path("helm.sh/chart").asText()).as("%s helm.sh/chart", what).isEqualTo("capo-0.1.0");
        assertThat(labels.path("app.kubernetes.io/component").asText()).as("%s component", what).isIn(COMPONENTS);
        if (c.set().containsKey("commonLabels.team")) {
            assertThat(labels.path("team").asText()).as("%s commonLabels", what).isEqualTo("network");
        }
    }

    private static List<JsonNode> render(Case c) {
        List<JsonNode> objects = ChartRenderer.documents(
                ChartRenderer.render(c.valuesFile(), c.release(), ChartRenderer.NAMESPACE, c.set()));
        objects.addAll(ChartRenderer.documents(
                ChartRenderer.renderTests(c.valuesFile(), c.release(), ChartRenderer.NAMESPACE, c.set())));
        return objects;
    }
}
