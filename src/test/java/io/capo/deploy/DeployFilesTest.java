package io.capo.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.capo.metrics.CapoMetrics;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The files in deploy/ and the chart README: generated ones up to date, the others consistent with the chart. */
class DeployFilesTest {

    private static final String REGENERATE = "stale: run scripts/render-install-yaml.sh";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern METRIC = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\{");

    /** Every metric a dashboard or an alert may use: Capo's (names from the code) and the JVM's. */
    private static final Set<String> KNOWN_METRICS = Set.of(
            CapoMetrics.IP_RESERVE_COUNT, CapoMetrics.IP_RESERVE_COUNT_MAX, CapoMetrics.IP_RESERVE_EVICTIONS_COUNT,
            CapoMetrics.LEADER_STATUS, CapoMetrics.RESERVATIONS + "_total", CapoMetrics.RELEASES + "_total",
            CapoMetrics.WEBHOOK_REQUESTS + "_total", CapoMetrics.WEBHOOK_DURATION + "_seconds_bucket",
            CapoMetrics.WEBHOOK_DURATION + "_seconds_sum", CapoMetrics.WEBHOOK_DURATION + "_seconds_count",
            CapoMetrics.LATE_RESERVATIONS + "_total", CapoMetrics.FAILURES + "_total", CapoMetrics.WRITES + "_total",
            CapoMetrics.CONFLICTS + "_total", CapoMetrics.CONFIG_RELOAD_REFUSED + "_total",
            CapoMetrics.ROUTES_RELOAD_REFUSED + "_total", CapoMetrics.CERTIFICATE_RELOAD_REFUSED + "_total",
            "jvm_memory_used_bytes", "jvm_memory_max_bytes", "up");

    private static Path root() {
        return ChartRenderer.projectRoot();
    }

    private static String read(String path) throws IOException {
        return Files.readString(root().resolve(path));
    }

    @Test
    void installYamlIsUpToDate() throws IOException {
        assertThat(read(ChartRenderer.INSTALL_YAML)).as(REGENERATE).isEqualTo(ChartRenderer.installYaml());
    }

    @Test
    void prometheusRulesAreUpToDate() throws IOException {
        String rules = read(ChartRenderer.PROMETHEUS_RULES);
        assertThat(rules).as(REGENERATE).isEqualTo(ChartRenderer.prometheusRulesYaml());
        JsonNode spec = Manifests.of(read(ChartRenderer.INSTALL_YAML)).only("PrometheusRule").path("spec");
        assertThat(YAML.readTree(rules)).isEqualTo(spec);
    }

    @Test
    void chartReadmeValuesTableIsUpToDate() throws IOException {
        assertThat(read(ChartRenderer.CHART_README)).as(REGENERATE).isEqualTo(ChartRenderer.chartReadme());
    }

    @Test
    void installYamlHoldsTheWholeInstallation() throws IOException {
        Manifests install = Manifests.of(read(ChartRenderer.INSTALL_YAML));
        JsonNode namespace = install.objects().get(0);
        assertThat(namespace.path("kind").asText()).isEqualTo("Namespace");
        assertThat(namespace.path("metadata").path("name").asText()).isEqualTo(ChartRenderer.NAMESPACE);
        assertThat(namespace.path("metadata").path("labels").path("pod-security.kubernetes.io/enforce").asText())
                .isEqualTo("restricted");
        assertThat(install.names()).contains("Deployment/capo", "ValidatingWebhookConfiguration/capo-validating-webhook-configuration",
                "ServiceMonitor/capo", "PrometheusRule/capo", "ConfigMap/capo-grafana-dashboard", "Certificate/capo-serving-cert");
        assertThat(install.ofKind("Pod")).as("no helm test hook").isEmpty();
        assertThat(install.ofKind("Secret")).as("no private key in a committed file").isEmpty();
        JsonNode capo = HelmChartTest.capo(install.only("Deployment"));
        assertThat(capo.path("lifecycle").path("preStop").path("sleep").path("seconds").asInt()).isEqualTo(5);
        assertThat(install.objects().get(1).path("metadata").path("name").asText()).as("Capo's CRD, from helm/capo/crds")
                .isEqualTo("reservedips.capo.io");
        for (JsonNode o : install.objects().subList(2, install.objects().size())) {
            assertThat(o.path("metadata").path("labels").path("helm.sh/chart").asText()).as("from the chart").startsWith("capo-");
        }
    }

    @Test
    void kustomizeBaseBuildsTheInstallYamlObjects() throws Exception {
        String base = kustomize("deploy/kustomize/base");
        assertThat(Manifests.of(base).names())
                .containsExactlyInAnyOrderElementsOf(Manifests.of(read(ChartRenderer.INSTALL_YAML)).names());
        Manifests overlay = Manifests.of(kustomize("deploy/kustomize/overlays/without-prometheus-operator"));
        assertThat(overlay.ofKind("ServiceMonitor")).isEmpty();
        assertThat(overlay.ofKind("PrometheusRule")).isEmpty();
        assertThat(overlay.names()).contains("Deployment/capo", "ValidatingWebhookConfiguration/capo-validating-webhook-configuration");
    }

    @Test
    void dashboardIsTheChartsAndUsesCapoMetrics() throws IOException {
        String dashboard = read("deploy/grafana/dashboard.json");
        assertThat(read("helm/capo/dashboards/capo.json")).as("helm/capo/dashboards/capo.json must be a copy of deploy/grafana/dashboard.json")
                .isEqualTo(dashboard);
        JsonNode json = JSON.readTree(dashboard);
        assertThat(json.path("uid").asText()).isEqualTo("capo-ip-reserve");
        List<String> titles = json.path("panels").findValuesAsText("title");
        assertThat(titles).contains("Addresses held vs ipReserveMaxCount", "Reservations by reason", "Releases by reason",
                "Webhook latency", "Webhook answers by result", "Webhook denials and failures", "Late reservations",
                "Leader per replica", "JVM memory used");
        List<String> expressions = json.path("panels").findValuesAsText("expr");
        assertThat(expressions).isNotEmpty();
        Set<String> used = metrics(expressions);
        assertThat(KNOWN_METRICS).containsAll(used);
        assertThat(used).contains(CapoMetrics.IP_RESERVE_COUNT, CapoMetrics.IP_RESERVE_COUNT_MAX,
                CapoMetrics.WEBHOOK_DURATION + "_seconds_bucket", CapoMetrics.LATE_RESERVATIONS + "_total",
                CapoMetrics.LEADER_STATUS, "jvm_memory_used_bytes");
        assertThat(String.join("\n", expressions)).contains("histogram_quantile(0.50", "histogram_quantile(0.99");
        for (JsonNode panel : json.path("panels")) {
            if (!"row".equals(panel.path("type").asText())) {
                assertThat(panel.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
            }
        }
    }

    @Test
    void alertsUseCapoMetricsAndTheMetricsServiceJob() throws IOException {
        JsonNode rules = YAML.readTree(read(ChartRenderer.PROMETHEUS_RULES)).path("groups").get(0).path("rules");
        List<String> expressions = rules.findValuesAsText("expr");
        assertThat(KNOWN_METRICS).containsAll(metrics(expressions));
        expressions.forEach(e -> assertThat(e).contains("job=\"capo-metrics-service\""));
        assertThat(rules.findValuesAsText("alert")).containsExactly("CapoInstancesDown", "CapoIpReserveNearMax",
                "CapoLeaderMissing", "CapoLeaderChanged", "CapoWebhookDenials", "CapoFailures", "CapoWebhookSlow",
                "CapoLateReservations", "CapoReloadRefused");
    }

    @Test
    void promtoolAcceptsAndUnitTestsTheRules() throws Exception {
        assumeTrue(onPath("promtool"), "promtool is not installed (apt-get install prometheus)");
        Path dir = Files.createTempDirectory("capo-rules");
        Files.copy(root().resolve(ChartRenderer.PROMETHEUS_RULES), dir.resolve("rules.yaml"));
        Files.copy(root().resolve("src/test/resources/deploy/rules-test.yaml"), dir.resolve("rules-test.yaml"));
        assertThat(run(dir, "promtool", "check", "rules", "rules.yaml")).contains("SUCCESS");
        assertThat(run(dir, "promtool", "test", "rules", "rules-test.yaml")).contains("SUCCESS");
    }

    /** The image's /manager (the Go Capo's command) hands every argument to the jar unchanged. */
    @Test
    void goCapoManagerCommandRunsTheJarWithItsArguments() throws Exception {
        Path bin = Files.createTempDirectory("capo-manager");
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do printf '<%s>' \"$a\"; done\n");
        assertThat(java.toFile().setExecutable(true)).isTrue();
        ProcessBuilder builder = new ProcessBuilder(root().resolve("src/main/docker/manager").toString(),
                "--config=/capo_config.yaml", "--metrics-bind-address", "a b").redirectErrorStream(true);
        builder.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).isZero();
        assertThat(out).isEqualTo("<-jar></app/capo.jar><--config=/capo_config.yaml><--metrics-bind-address><a b>");
        assertThat(read("Dockerfile")).contains("COPY --chmod=0755 src/main/docker/manager /manager");
    }

    @Test
    void dockerfileBuildsANonRootImageOfTheShadedJar() throws IOException {
        String dockerfile = read("Dockerfile");
        // global ARG defaults (before the first FROM) may name the base images
        Map<String, String> args = new HashMap<>();
        Matcher arg = Pattern.compile("(?m)^ARG\\s+(\\w+)=(\\S+)").matcher(dockerfile.substring(0, dockerfile.indexOf("\nFROM ")));
        while (arg.find()) {
            args.put(arg.group(1), arg.group(2));
        }
        List<String> from = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^FROM\\s+(\\S+)").matcher(dockerfile);
        while (m.find()) {
            String image = m.group(1);
            Matcher ref = Pattern.compile("^\\$\\{(\\w+)}$").matcher(image);
            from.add(ref.matches() ? args.getOrDefault(ref.group(1), image) : image);
        }
        assertThat(from).anyMatch(image -> image.startsWith("maven:3.9-eclipse-temurin-17"));
        assertThat(from.get(from.size() - 1)).startsWith("eclipse-temurin:17-jre");
        assertThat(from).noneMatch(image -> image.endsWith(":latest"));
        assertThat(dockerfile).contains("mvn -B -DskipTests package", "USER 65532:65532", "WORKDIR /app",
                "-XX:MaxRAMPercentage=50", "-XX:+UseContainerSupport");
        assertThat(dockerfile).containsPattern("ENTRYPOINT \\[\"java\",.*\"-jar\", \"/app/capo.jar\"\\]");
        // the last USER wins and is not root
        Matcher user = Pattern.compile("(?m)^USER\\s+(\\S+)").matcher(dockerfile);
        String last = null;
        while (user.find()) {
            last = user.group(1);
        }
        assertThat(last).isEqualTo("65532:65532");
        assertThat(read(".dockerignore")).contains("target", ".git");
    }

    private static Set<String> metrics(List<String> expressions) {
        Set<String> names = new TreeSet<>();
        for (String expression : expressions) {
            Matcher m = METRIC.matcher(expression);
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    private static String kustomize(String dir) throws Exception {
        assumeTrue(onPath("kubectl"), "kubectl is not installed");
        return run(root(), "kubectl", "kustomize", dir);
    }

    private static boolean onPath(String command) {
        String path = System.getenv("PATH");
        return path != null && Stream.of(path.split(File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, command)));
    }

    private static String run(Path dir, String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("%s:%n%s", String.join(" ", command), output).isZero();
        return output;
    }
}
