package io.capo.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.LintResult;
import io.capo.config.CapoSettings;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.capo.deploy.HelmChartTest.capo;
import static io.capo.deploy.HelmChartTest.loadConfig;
import static io.capo.deploy.HelmChartTest.podSpec;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A values file of the Go Capo chart (src/test/resources/deploy/go-capo-values.yaml: every key that chart has, in
 * its layout) passes the schema and gives the configuration it gave the Go Capo.
 */
class GoCapoValuesTest {

    static final Path GO_VALUES = Path.of("src/test/resources/deploy/go-capo-values.yaml");

    private static Path goValues() {
        return ChartRenderer.projectRoot().resolve(GO_VALUES);
    }

    @Test
    void lintStrictPasses() {
        LintResult lint = ChartRenderer.lint(goValues());
        assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
        assertThat(lint.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
    }

    @Test
    void rendersTheGoCapoConfiguration() {
        Manifests m = Manifests.of(ChartRenderer.render(goValues()));
        JsonNode deployment = m.only("Deployment");
        assertThat(deployment.path("spec").path("replicas").asInt()).isEqualTo(3);
        assertThat(m.ofKind("HorizontalPodAutoscaler")).isEmpty();

        CapoSettings s = loadConfig(m).settings();
        assertThat(s.leaderElection().leaderElect()).isTrue();
        assertThat(s.ipReserveMaxCount()).isEqualTo(400);
        assertThat(s.ipReserveTime()).isEqualTo(Duration.ofMinutes(40));
        assertThat(s.ipReleasePeriod()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.healthProbePort()).isEqualTo(8081);
        assertThat(s.webhookPort()).isEqualTo(9443);
        assertThat(HelmChartTest.containerPort(deployment, "webhook")).isEqualTo(9443);
        // Capo serves health on the management port (metricsBindAddress), so the probes go there
        HelmChartTest.assertProbe(capo(deployment).path("readinessProbe"), "/observe/health/ready", 8080);

        JsonNode container = capo(deployment);
        assertThat(container.path("image").asText()).isEqualTo("registry.example.com/capo:0.1.0");
        assertThat(container.path("resources").path("limits").path("memory").asText()).isEqualTo("1024Mi");
        assertThat(container.path("resources").path("limits").path("cpu").asText()).isEqualTo("500m");
        // the Go file's partial security contexts merge into the chart's restricted ones
        assertThat(container.path("securityContext").path("readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(podSpec(deployment).path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
        assertThat(podSpec(deployment).path("securityContext").path("seccompProfile").path("type").asText())
                .isEqualTo("RuntimeDefault");
        // no kube-rbac-proxy: rbacImage is accepted and unused
        assertThat(podSpec(deployment).path("containers")).hasSize(1);
        assertThat(m.toString()).doesNotContain("kube-rbac-proxy");

        JsonNode webhookPort = m.one("Service", "capo-webhook-service").path("spec").path("ports").get(0);
        assertThat(webhookPort.path("port").asInt()).isEqualTo(443);
        assertThat(m.one("Service", "capo-webhook-service").path("spec").path("type").asText()).isEqualTo("ClusterIP");
    }

    /** The Go chart's affinity selects control-plane=controller-manager, the label the Go Capo's pods carried. */
    @Test
    void theGoCapoAntiAffinitySelectsCapoPods() {
        Manifests m = Manifests.of(ChartRenderer.render(goValues()));
        JsonNode template = m.only("Deployment").path("spec").path("template");
        JsonNode term = template.path("spec").path("affinity").path("podAntiAffinity")
                .path("requiredDuringSchedulingIgnoredDuringExecution").get(0);
        assertThat(term.path("topologyKey").asText()).isEqualTo("kubernetes.io/hostname");
        JsonNode podLabels = template.path("metadata").path("labels");
        term.path("labelSelector").path("matchLabels").fields().forEachRemaining(label ->
                assertThat(podLabels.path(label.getKey()).asText()).as(label.getKey()).isEqualTo(label.getValue().asText()));
    }

    /** The Go chart's `namespace` value moves every namespaced object, and what refers to it, there. */
    @Test
    void theNamespaceValuePlacesTheObjects() {
        Manifests m = Manifests.of(ChartRenderer.render(goValues(), "capo", "default", Map.of("namespace", "ip-reserve")));
        for (JsonNode o : m.objects()) {
            String kind = o.path("kind").asText();
            if (!List.of("ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration").contains(kind)) {
                assertThat(o.path("metadata").path("namespace").asText()).as(kind).isEqualTo("ip-reserve");
            }
        }
        JsonNode hook = m.only("ValidatingWebhookConfiguration");
        assertThat(hook.path("webhooks").get(0).path("clientConfig").path("service").path("namespace").asText())
                .isEqualTo("ip-reserve");
        assertThat(hook.path("metadata").path("annotations").path("cert-manager.io/inject-ca-from").asText())
                .isEqualTo("ip-reserve/capo-serving-cert");
        assertThat(m.one("Certificate", "capo-serving-cert").path("spec").path("dnsNames").toString())
                .contains("capo-webhook-service.ip-reserve.svc");
        assertThat(m.one("ClusterRoleBinding", "capo-manager").path("subjects").get(0).path("namespace").asText())
                .isEqualTo("ip-reserve");
        assertThat(loadConfig(m).settings().leaderElection().resourceNamespace()).isEqualTo("ip-reserve");
    }
}
