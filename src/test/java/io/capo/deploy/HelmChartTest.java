package io.capo.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.LintResult;
import io.capo.config.CapoConfigLoader;
import io.capo.config.CapoSettings;
import io.capo.config.LoadedConfig;
import io.capo.config.SelectorMode;
import io.capo.webhook.AdmissionRequest;
import io.capo.webhook.AdmissionReviews;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static io.capo.deploy.Manifests.byName;
import static io.capo.deploy.Manifests.texts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** helm lint and helm template of helm/capo, with the defaults and with every option on. */
class HelmChartTest {

    static final Path ALL_OPTIONS = Path.of("src/test/resources/deploy/all-options-values.yaml");

    static Manifests defaults;
    static Manifests all;

    @BeforeAll
    static void render() {
        defaults = Manifests.of(ChartRenderer.render(null));
        all = Manifests.of(ChartRenderer.render(ChartRenderer.projectRoot().resolve(ALL_OPTIONS)));
    }

    // ---------------------------------------------------------------- lint

    @Test
    void lintPassesWithDefaults() {
        assertLintClean(ChartRenderer.lint(null));
    }

    @Test
    void lintPassesWithEveryOption() {
        assertLintClean(ChartRenderer.lint(ChartRenderer.projectRoot().resolve(ALL_OPTIONS)));
    }

    private static void assertLintClean(LintResult lint) {
        assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
        assertThat(lint.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
    }

    // ---------------------------------------------------------------- defaults

    @Test
    void defaultsRenderTheExpectedObjects() {
        assertThat(defaults.names()).containsExactlyInAnyOrder(
                "ServiceAccount/capo",
                "ConfigMap/capo-manager-config",
                "ConfigMap/capo-routes",
                "ClusterRole/capo-manager",
                "ClusterRoleBinding/capo-manager",
                "Role/capo-manager",
                "RoleBinding/capo-manager",
                "Service/capo-webhook-service",
                "Service/capo-metrics-service",
                "Deployment/capo",
                "PodDisruptionBudget/capo",
                "NetworkPolicy/capo",
                "Issuer/capo-selfsigned",
                "Issuer/capo-ca",
                "Certificate/capo-ca",
                "Certificate/capo-serving-cert",
                "ValidatingWebhookConfiguration/capo-validating-webhook-configuration");
        for (JsonNode o : defaults.objects()) {
            String kind = o.path("kind").asText();
            if (!List.of("ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration").contains(kind)) {
                assertThat(o.path("metadata").path("namespace").asText()).as(kind).isEqualTo(ChartRenderer.NAMESPACE);
            }
            assertThat(o.path("metadata").path("labels").path("app.kubernetes.io/name").asText()).isEqualTo("capo");
        }
    }

    @Test
    void networkPolicyAdmitsTheWebhookFromPrivateRangesAndTheManagementPortFromAnywhere() {
        JsonNode policy = defaults.only("NetworkPolicy").path("spec");
        JsonNode webhook = policy.path("ingress").get(0);
        assertThat(webhook.path("ports").get(0).path("port").asText()).isEqualTo("webhook");
        assertThat(webhook.path("from").findValuesAsText("cidr")).containsExactly("10.0.0.0/8", "172.16.0.0/12",
                "192.168.0.0/16", "100.64.0.0/10", "fc00::/7");
        JsonNode management = policy.path("ingress").get(1);
        assertThat(management.path("ports").get(0).path("port").asText()).isEqualTo("jolokia");
        assertThat(management.has("from")).as("Prometheus and the kubelet's probes").isFalse();
    }

    @Test
    void webhookConfiguration() {
        JsonNode vwc = defaults.only("ValidatingWebhookConfiguration");
        assertThat(vwc.path("metadata").path("annotations").path("cert-manager.io/inject-ca-from").asText())
                .isEqualTo("ip-reserve/capo-serving-cert");
        assertThat(vwc.path("webhooks")).hasSize(1);
        JsonNode hook = vwc.path("webhooks").get(0);
        assertThat(hook.path("name").asText()).isEqualTo("pod-ip-reservation.capo.io");
        assertThat(hook.path("sideEffects").asText()).isEqualTo("NoneOnDryRun");
        assertThat(texts(hook.path("admissionReviewVersions"))).containsExactly("v1");
        assertThat(hook.path("failurePolicy").asText()).isEqualTo("Fail");
        assertThat(hook.path("timeoutSeconds").asInt()).isEqualTo(10);
        assertThat(hook.path("namespaceSelector").path("matchLabels").toString()).isEqualTo("{\"ip-reserve\":\"enabled\"}");
        assertThat(hook.has("objectSelector")).isFalse();
        assertThat(rules(hook)).containsExactlyInAnyOrder("DELETE  v1 pods Namespaced",
                "CREATE  v1 pods/eviction Namespaced");
        JsonNode service = hook.path("clientConfig").path("service");
        assertThat(service.path("name").asText()).isEqualTo("capo-webhook-service");
        assertThat(service.path("namespace").asText()).isEqualTo("ip-reserve");
        assertThat(service.path("path").asText()).isEqualTo("/pod-ip-reservation");
        assertThat(service.path("port").asInt()).isEqualTo(443);
        assertThat(hook.path("clientConfig").has("caBundle")).isFalse();

        JsonNode webhookService = defaults.one("Service", "capo-webhook-service");
        JsonNode port = webhookService.path("spec").path("ports").get(0);
        assertThat(port.path("port").asInt()).isEqualTo(443);
        assertThat(port.path("targetPort").asText()).isEqualTo("webhook");
        assertThat(containerPort(defaults.only("Deployment"), "webhook")).isEqualTo(9443);
    }

    @Test
    void certManagerIssuesTheServingCertificateFromTheChartsCa() {
        JsonNode serving = defaults.one("Certificate", "capo-serving-cert").path("spec");
        assertThat(serving.path("secretName").asText()).isEqualTo("capo-webhook-tls");
        assertThat(texts(serving.path("dnsNames"))).contains("capo-webhook-service.ip-reserve.svc",
                "capo-webhook-service.ip-reserve.svc.cluster.local");
        assertThat(serving.path("issuerRef").path("name").asText()).isEqualTo("capo-ca");
        assertThat(serving.path("privateKey").path("algorithm").asText()).isEqualTo("RSA");
        JsonNode ca = defaults.one("Certificate", "capo-ca").path("spec");
        assertThat(ca.path("isCA").asBoolean()).isTrue();
        assertThat(ca.path("issuerRef").path("name").asText()).isEqualTo("capo-selfsigned");
        assertThat(defaults.one("Issuer", "capo-ca").path("spec").path("ca").path("secretName").asText())
                .isEqualTo(ca.path("secretName").asText());
        assertThat(defaults.one("Issuer", "capo-selfsigned").path("spec").has("selfSigned")).isTrue();
        // the pods read the certificate cert-manager writes
        JsonNode secretVolume = byName(podSpec(defaults.only("Deployment")).path("volumes"), "webhook-certs").orElseThrow();
        assertThat(secretVolume.path("secret").path("secretName").asText()).isEqualTo("capo-webhook-tls");
    }

    @Test
    void deploymentRunsRestrictedAndHighlyAvailable() {
        JsonNode deployment = defaults.only("Deployment");
        assertThat(deployment.path("spec").path("replicas").asInt()).isEqualTo(3);
        JsonNode pod = podSpec(deployment);
        JsonNode podSecurity = pod.path("securityContext");
        assertThat(podSecurity.path("runAsNonRoot").asBoolean()).isTrue();
        assertThat(podSecurity.path("runAsUser").asInt()).isEqualTo(65532);
        assertThat(podSecurity.path("seccompProfile").path("type").asText()).isEqualTo("RuntimeDefault");
        JsonNode container = capo(deployment);
        JsonNode security = container.path("securityContext");
        assertThat(security.path("runAsNonRoot").asBoolean()).isTrue();
        assertThat(security.path("runAsUser").asInt()).isEqualTo(65532);
        assertThat(security.path("readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(security.path("allowPrivilegeEscalation").asBoolean()).isFalse();
        assertThat(texts(security.path("capabilities").path("drop"))).containsExactly("ALL");
        assertThat(security.path("seccompProfile").path("type").asText()).isEqualTo("RuntimeDefault");
        assertThat(security.path("privileged").asBoolean(false)).isFalse();

        assertThat(mountPath(container, "tmp")).isEqualTo("/tmp");
        assertThat(byName(pod.path("volumes"), "tmp").orElseThrow().has("emptyDir")).isTrue();
        assertThat(pod.path("terminationGracePeriodSeconds").asInt()).isEqualTo(30);
        assertThat(container.has("lifecycle")).as("helm template sees Kubernetes 1.20: no preStop sleep").isFalse();

        JsonNode antiAffinity = pod.path("affinity").path("podAntiAffinity")
                .path("requiredDuringSchedulingIgnoredDuringExecution");
        assertThat(antiAffinity).hasSize(1);
        assertThat(antiAffinity.get(0).path("topologyKey").asText()).isEqualTo("kubernetes.io/hostname");
        assertThat(antiAffinity.get(0).path("labelSelector").path("matchLabels"))
                .isEqualTo(deployment.path("spec").path("selector").path("matchLabels"));
        assertThat(deployment.path("spec").path("strategy").path("rollingUpdate").path("maxSurge").asInt()).isZero();

        JsonNode pdb = defaults.only("PodDisruptionBudget").path("spec");
        assertThat(pdb.path("maxUnavailable").asInt()).isEqualTo(1);
        assertThat(pdb.path("selector").path("matchLabels")).isEqualTo(deployment.path("spec").path("selector").path("matchLabels"));

        JsonNode annotations = deployment.path("spec").path("template").path("metadata").path("annotations");
        assertThat(annotations.path("hawt.io/jolokiaPath").asText()).isEqualTo("/observe/jolokia");
        assertThat(annotations.path("hawt.io/protocol").asText()).isEqualTo("http");
        assertThat(pod.path("serviceAccountName").asText()).isEqualTo("capo");
    }

    @Test
    void probesAndPortsUseTheManagementPort() {
        JsonNode container = capo(defaults.only("Deployment"));
        assertThat(containerPort(defaults.only("Deployment"), "jolokia")).isEqualTo(8080);
        assertProbe(container.path("livenessProbe"), "/observe/health/live", 8080);
        assertProbe(container.path("startupProbe"), "/observe/health/live", 8080);
        assertProbe(container.path("readinessProbe"), "/observe/health/ready", 8080);
        JsonNode metrics = defaults.one("Service", "capo-metrics-service");
        assertThat(metrics.path("spec").path("ports").get(0).path("port").asInt()).isEqualTo(8080);
        assertThat(metrics.path("spec").path("ports").get(0).path("targetPort").asText()).isEqualTo("jolokia");
        for (JsonNode service : defaults.ofKind("Service")) {
            assertThat(service.path("spec").path("selector"))
                    .isEqualTo(defaults.only("Deployment").path("spec").path("selector").path("matchLabels"));
        }
    }

    @Test
    void environmentAndMountsPointCapoAtItsFiles() {
        JsonNode deployment = defaults.only("Deployment");
        JsonNode container = capo(deployment);
        JsonNode env = container.path("env");
        assertThat(byName(env, "POD_NAMESPACE").orElseThrow().path("valueFrom").path("fieldRef").path("fieldPath").asText())
                .isEqualTo("metadata.namespace");
        assertThat(envValue(container, "CAPO_CONFIG_FILE")).isEqualTo(mountPath(container, "config") + "/capo_config.yaml");
        assertThat(envValue(container, "CAPO_ROUTES_DIR")).isEqualTo(mountPath(container, "routes"));
        assertThat(envValue(container, "JAVA_TOOL_OPTIONS")).contains("-XX:MaxRAMPercentage=50", "-XX:+ExitOnOutOfMemoryError");
        assertThat(mountPath(container, "webhook-certs")).isEqualTo("/tmp/k8s-webhook-server/serving-certs");
        // whole ConfigMaps, so that updates propagate
        container.path("volumeMounts").forEach(m -> assertThat(m.has("subPath")).as(m.toString()).isFalse());
        JsonNode volumes = podSpec(deployment).path("volumes");
        assertThat(byName(volumes, "config").orElseThrow().path("configMap").path("name").asText()).isEqualTo("capo-manager-config");
        assertThat(byName(volumes, "routes").orElseThrow().path("configMap").path("name").asText()).isEqualTo("capo-routes");
        assertThat(container.path("image").asText()).endsWith(":0.1.0");
    }

    @Test
    void clientCertificateAuthenticationIsOffByDefaultAndMountsTheCaWhenOn() {
        JsonNode off = capo(defaults.only("Deployment"));
        assertThat(envValue(off, "JAVA_TOOL_OPTIONS")).doesNotContain("capo.tls.client");
        assertThat(byName(off.path("volumeMounts"), "client-ca")).isEmpty();

        Manifests fromSecret = Manifests.of(ChartRenderer.render(null, "capo", "ip-reserve", Map.of(
                "webhook.clientAuth.enabled", "true", "webhook.clientAuth.caSecret", "apiserver-client-ca",
                "webhook.clientAuth.allowedNames[0]", "kube-apiserver",
                "webhook.clientAuth.allowedNames[1]", "capo-webhook-service.ip-reserve.svc")));
        JsonNode deployment = fromSecret.only("Deployment");
        JsonNode container = capo(deployment);
        assertThat(envValue(container, "JAVA_TOOL_OPTIONS")).endsWith(" -Dvertx.cacheDirBase=/tmp/vertx-cache"
                + " -Dcapo.tls.clientCaFile=/etc/capo/client-ca/ca.crt"
                + " -Dcapo.tls.clientAllowedNames=kube-apiserver,capo-webhook-service.ip-reserve.svc");
        assertThat(mountPath(container, "client-ca")).isEqualTo("/etc/capo/client-ca");
        JsonNode volume = byName(podSpec(deployment).path("volumes"), "client-ca").orElseThrow();
        assertThat(volume.path("secret").path("secretName").asText()).isEqualTo("apiserver-client-ca");
        assertThat(volume.path("secret").path("items").get(0).path("key").asText()).isEqualTo("ca.crt");
        assertThat(volume.path("secret").path("items").get(0).path("path").asText()).isEqualTo("ca.crt");

        Manifests fromConfigMap = Manifests.of(ChartRenderer.render(null, "capo", "ip-reserve", Map.of(
                "webhook.clientAuth.enabled", "true", "webhook.clientAuth.caConfigMap", "apiserver-ca",
                "webhook.clientAuth.caKey", "bundle.pem")));
        JsonNode fromMap = byName(podSpec(fromConfigMap.only("Deployment")).path("volumes"), "client-ca").orElseThrow();
        assertThat(fromMap.path("configMap").path("name").asText()).isEqualTo("apiserver-ca");
        assertThat(fromMap.path("configMap").path("items").get(0).path("key").asText()).isEqualTo("bundle.pem");
        assertThat(envValue(capo(fromConfigMap.only("Deployment")), "JAVA_TOOL_OPTIONS"))
                .endsWith(" -Dcapo.tls.clientCaFile=/etc/capo/client-ca/ca.crt");

        assertThatThrownBy(() -> ChartRenderer.render(null, "capo", "ip-reserve", Map.of(
                "webhook.clientAuth.enabled", "true"))).hasMessageContaining("exactly one of webhook.clientAuth.caSecret");
        assertThatThrownBy(() -> ChartRenderer.render(null, "capo", "ip-reserve", Map.of(
                "webhook.clientAuth.enabled", "true", "webhook.clientAuth.caSecret", "a",
                "webhook.clientAuth.caConfigMap", "b"))).hasMessageContaining("exactly one of");
        assertThatThrownBy(() -> ChartRenderer.render(null, "capo", "ip-reserve", Map.of(
                "webhook.clientAuth.enabled", "true", "webhook.clientAuth.caSecret", "a",
                "webhook.clientAuth.allowedNames[0]", "a b"))).hasMessageContaining("webhook.clientAuth.allowedNames");
    }

    @Test
    void rbacGrantsExactlyWhatCapoCalls() {
        assertThat(rules(defaults.one("ClusterRole", "capo-manager"))).containsExactlyInAnyOrder(
                "[] [pods, namespaces, nodes] [] [get, list, watch]",
                "[projectcalico.org] [ipreservations] [] [get, list, watch, create]",
                "[projectcalico.org] [ipreservations] [ip-reserve-delay-release] [update, patch]");
        // the Lease is renewed with a JSON merge patch (fabric8's LeaseLock), so patch is needed, list and watch not
        assertThat(rules(defaults.one("Role", "capo-manager"))).containsExactlyInAnyOrder(
                "[capo.io] [reservedips] [] [get, list, watch, create, update, patch, delete]",
                "[] [configmaps] [ip-reserve-delay-release] [get]",
                "[coordination.k8s.io] [leases] [] [create]",
                "[coordination.k8s.io] [leases] [capo] [get, update, patch]");
        for (String kind : List.of("ClusterRoleBinding", "RoleBinding")) {
            JsonNode binding = defaults.only(kind);
            assertThat(binding.path("roleRef").path("name").asText()).isEqualTo("capo-manager");
            assertThat(binding.path("subjects").get(0).path("name").asText()).isEqualTo("capo");
            assertThat(binding.path("subjects").get(0).path("namespace").asText()).isEqualTo("ip-reserve");
        }
    }

    @Test
    void renderedConfigIsValidForCapoAndCarriesTheValues() {
        LoadedConfig loaded = loadConfig(defaults);
        assertThat(loaded.warnings()).isEmpty();
        CapoSettings s = loaded.settings();
        assertThat(s.ipReserveMaxCount()).isEqualTo(300);
        assertThat(s.ipReserveTime()).isEqualTo(Duration.ofMinutes(40));
        assertThat(s.ipReleasePeriod()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.leaderElection().leaderElect()).isTrue();
        assertThat(s.leaderElection().resourceNamespace()).isEqualTo("ip-reserve");
        assertThat(s.webhookPort()).isEqualTo(9443);
        assertThat(s.managementPort()).isEqualTo(8080);
        assertThat(s.certDir()).isEqualTo("/tmp/k8s-webhook-server/serving-certs");
        assertThat(s.namespaceLabel()).isEqualTo("ip-reserve=enabled");
        assertThat(s.calicoApiVersion()).isEqualTo("projectcalico.org/v3");
        assertThat(s.reservationObjectName()).isEqualTo("ip-reserve-delay-release");
        assertThat(s.matchExpressions()).hasSize(2);
        // the chart's defaults are the code's defaults
        CapoSettings d = CapoSettings.defaults();
        assertThat(s.selectorMode()).isEqualTo(d.selectorMode());
        assertThat(s.failureMode()).isEqualTo(d.failureMode());
        assertThat(s.webhookBudget()).isEqualTo(d.webhookBudget());
        assertThat(configText(defaults)).as("derived from webhook.timeoutSeconds, not rendered")
                .doesNotContain("webhookBudget").contains("timeoutSeconds: 10");
        assertThat(s.staleGrace()).isEqualTo(d.staleGrace());
        assertThat(s.matchExpressions()).isEqualTo(d.matchExpressions());
        assertThat(s.leaderElection().leaseDuration()).isEqualTo(d.leaderElection().leaseDuration());
    }

    @Test
    void routesConfigMapHoldsTheChartsRouteFiles() throws Exception {
        JsonNode data = defaults.one("ConfigMap", "capo-routes").path("data");
        Map<String, String> expected = new TreeMap<>();
        try (Stream<Path> files = Files.list(ChartRenderer.chartDir().resolve("routes"))) {
            for (Path file : files.toList()) {
                expected.put(file.getFileName().toString(), Files.readString(file));
            }
        }
        Map<String, String> actual = new TreeMap<>();
        data.fields().forEachRemaining(e -> actual.put(e.getKey(), e.getValue().asText()));
        assertThat(actual).isEqualTo(expected);
    }

    @Test
    void helmTestPostsANonPodReviewAndExpectsAllowed() throws Exception {
        Manifests tests = Manifests.of(ChartRenderer.renderTests(null, "capo", "ip-reserve", Map.of()));
        JsonNode pod = tests.only("Pod");
        assertThat(pod.path("metadata").path("name").asText()).isEqualTo("capo-test-webhook");
        assertThat(pod.path("metadata").path("annotations").path("capo.io/helm-hook").asText()).isEqualTo("test");
        assertThat(Files.readString(ChartRenderer.chartDir().resolve("templates/tests/test-webhook.yaml")))
                .contains("helm.sh/hook: test", "helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded");
        JsonNode container = pod.path("spec").path("containers").get(0);
        assertThat(container.path("image").asText()).startsWith("curlimages/curl:");
        String script = texts(container.path("command")).get(2);
        assertThat(script).contains("https://capo-webhook-service.ip-reserve.svc:443/pod-ip-reservation",
                "--cacert /etc/capo/ca/ca.crt");
        JsonNode caVolume = pod.path("spec").path("volumes").get(0).path("secret");
        assertThat(caVolume.path("secretName").asText()).isEqualTo("capo-webhook-tls");
        assertThat(pod.path("spec").path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();

        // the review it sends is one Capo reads and lets through, and the check matches Capo's answer
        Matcher review = Pattern.compile("review='([^']+)'").matcher(script);
        assertThat(review.find()).isTrue();
        AdmissionRequest request = AdmissionReviews.parse(review.group(1));
        assertThat(request.isPodDelete() || request.isPodEviction()).isFalse();
        String answer = AdmissionReviews.allow(request, null);
        assertThat(answer).containsPattern("\"allowed\"\\s*:\\s*true").contains(request.uid());
        assertThat(script).contains("grep -Eq '\"allowed\"[[:space:]]*:[[:space:]]*true'");
    }

    @Test
    void withClientAuthenticationTheHelmTestPresentsItsCertificateOrExpectsTheRefusal() throws Exception {
        Manifests refused = Manifests.of(ChartRenderer.renderTests(null, "capo", "ip-reserve", Map.of(
                "webhook.clientAuth.enabled", "true", "webhook.clientAuth.caSecret", "apiserver-client-ca")));
        String refusal = texts(refused.only("Pod").path("spec").path("containers").get(0).path("command")).get(2);
        assertThat(refusal).contains("35|56) echo \"refused without a client certificate").doesNotContain("--cert ");
        assertThat(refused.only("Pod").path("spec").path("volumes")).hasSize(1);

        Manifests presented = Manifests.of(ChartRenderer.renderTests(null, "capo", "ip-reserve", Map.of(
                "webhook.clientAuth.enabled", "true", "webhook.clientAuth.caSecret", "apiserver-client-ca",
                "tests.clientCertSecret", "helm-test-client")));
        JsonNode pod = presented.only("Pod");
        String script = texts(pod.path("spec").path("containers").get(0).path("command")).get(2);
        assertThat(script).contains("--cert /etc/capo/client/tls.crt --key /etc/capo/client/tls.key",
                "grep -Eq '\"allowed\"[[:space:]]*:[[:space:]]*true'");
        assertThat(byName(pod.path("spec").path("volumes"), "client").orElseThrow().path("secret")
                .path("secretName").asText()).isEqualTo("helm-test-client");
        assertThat(mountPath(pod.path("spec").path("containers").get(0), "client")).isEqualTo("/etc/capo/client");
    }

    // ---------------------------------------------------------------- every option on

    @Test
    void everyOptionRendersItsObjects() {
        assertThat(all.names()).contains(
                "NetworkPolicy/capo-all",
                "HorizontalPodAutoscaler/capo-all",
                "ServiceMonitor/capo-all",
                "PrometheusRule/capo-all",
                "ConfigMap/capo-all-grafana-dashboard",
                "Role/capo-all-leader-election",
                "RoleBinding/capo-all-leader-election",
                "ServiceAccount/capo-sa",
                "Certificate/capo-all-serving-cert");
        // an external issuer: no chart CA
        assertThat(all.ofKind("Issuer")).isEmpty();
        assertThat(all.one("Certificate", "capo-all-serving-cert").path("spec").path("issuerRef").path("kind").asText())
                .isEqualTo("ClusterIssuer");
        for (JsonNode o : all.objects()) {
            assertThat(o.path("metadata").path("labels").path("team").asText()).isEqualTo("network");
        }
    }

    @Test
    void everyOptionDeployment() {
        JsonNode deployment = all.only("Deployment");
        assertThat(deployment.path("spec").has("replicas")).as("the HPA owns replicas").isFalse();
        JsonNode pod = podSpec(deployment);
        JsonNode container = capo(deployment);
        assertThat(container.path("image").asText()).isEqualTo("registry.example.com/capo:1.2.3");
        assertThat(container.path("imagePullPolicy").asText()).isEqualTo("Always");
        assertThat(pod.path("imagePullSecrets").findValuesAsText("name")).containsExactly("regcred", "other-cred");
        assertThat(pod.path("priorityClassName").asText()).isEqualTo("system-cluster-critical");
        assertThat(pod.path("terminationGracePeriodSeconds").asInt()).isEqualTo(40);
        assertThat(container.path("lifecycle").path("preStop").path("sleep").path("seconds").asInt()).isEqualTo(7);
        assertThat(containerPort(deployment, "webhook")).isEqualTo(9444);
        assertThat(containerPort(deployment, "jolokia")).isEqualTo(8181);
        assertProbe(container.path("readinessProbe"), "/observe/health/ready", 8181);
        assertThat(mountPath(container, "webhook-certs")).isEqualTo("/tmp/certs");
        assertThat(mountPath(container, "extra")).isEqualTo("/extra");
        assertThat(envValue(container, "CAPO_EXTRA")).isEqualTo("1");
        assertThat(envValue(container, "JAVA_TOOL_OPTIONS")).isEqualTo("-XX:MaxRAMPercentage=60");
        assertThat(pod.path("affinity").has("nodeAffinity")).isTrue();
        assertThat(pod.path("affinity").has("podAntiAffinity")).as("affinity replaces the preset").isFalse();
        assertThat(pod.path("nodeSelector").path("kubernetes.io/os").asText()).isEqualTo("linux");
        assertThat(pod.path("tolerations").get(0).path("key").asText()).isEqualTo("dedicated");
        assertThat(pod.path("topologySpreadConstraints")).hasSize(1);
        assertThat(byName(pod.path("volumes"), "tmp").orElseThrow().path("emptyDir").path("sizeLimit").asText()).isEqualTo("128Mi");
        JsonNode template = deployment.path("spec").path("template").path("metadata");
        assertThat(template.path("annotations").path("example.com/pod").asText()).isEqualTo("yes");
        assertThat(template.path("annotations").path("prometheus.io/port").asText()).isEqualTo("8181");
        assertThat(template.path("labels").path("example.com/tier").asText()).isEqualTo("control");
        assertThat(all.only("PodDisruptionBudget").path("spec").path("minAvailable").asInt()).isEqualTo(2);
        JsonNode hpa = all.only("HorizontalPodAutoscaler").path("spec");
        assertThat(hpa.path("minReplicas").asInt()).isEqualTo(3);
        assertThat(hpa.path("maxReplicas").asInt()).isEqualTo(7);
        assertThat(hpa.path("metrics")).hasSize(2);
        assertThat(hpa.path("scaleTargetRef").path("name").asText()).isEqualTo("capo-all");
    }

    @Test
    void everyOptionWebhookRbacAndConfig() {
        JsonNode hook = all.only("ValidatingWebhookConfiguration").path("webhooks").get(0);
        assertThat(hook.path("name").asText()).isEqualTo("pods.capo.example.com");
        assertThat(hook.path("failurePolicy").asText()).isEqualTo("Ignore");
        assertThat(hook.path("timeoutSeconds").asInt()).isEqualTo(5);
        assertThat(hook.path("namespaceSelector").path("matchExpressions").get(0).path("key").asText()).isEqualTo("capo.io/reserve");
        assertThat(hook.path("objectSelector").path("matchLabels").path("capo.io/park").asText()).isEqualTo("true");
        assertThat(hook.path("clientConfig").path("service").path("port").asInt()).isEqualTo(8443);
        assertThat(hook.path("sideEffects").asText()).isEqualTo("NoneOnDryRun");
        assertThat(rules(hook)).hasSize(2);
        assertThat(all.only("ValidatingWebhookConfiguration").path("metadata").path("annotations")
                .path("example.com/owner").asText()).isEqualTo("network");

        assertThat(rules(all.one("ClusterRole", "capo-all-manager"))).contains(
                "[crd.projectcalico.org] [ipreservations] [] [get, list, watch, create]",
                "[crd.projectcalico.org] [ipreservations] [capo-parked, capo-parked-1, capo-parked-2, capo-parked-3] [update, patch]");
        assertThat(rules(all.one("Role", "capo-all-manager"))).containsExactlyInAnyOrder(
                "[capo.io] [reservedips] [] [get, list, watch, create, update, patch, delete]",
                "[] [configmaps] [capo-parked] [get]",
                "[, events.k8s.io] [events] [] [create, patch]");
        JsonNode leaderRole = all.one("Role", "capo-all-leader-election");
        assertThat(leaderRole.path("metadata").path("namespace").asText()).isEqualTo("capo-leases");
        assertThat(rules(leaderRole)).containsExactly("[coordination.k8s.io] [leases] [] [create]",
                "[coordination.k8s.io] [leases] [capo-leader] [get, update, patch]");
        JsonNode leaderBinding = all.one("RoleBinding", "capo-all-leader-election");
        assertThat(leaderBinding.path("subjects").get(0).path("namespace").asText()).isEqualTo("ip-reserve");

        LoadedConfig loaded = loadConfig(all);
        CapoSettings s = loaded.settings();
        assertThat(s.ipReserveMaxCount()).isEqualTo(400);
        assertThat(s.ipReserveTime()).isEqualTo(Duration.ofHours(1));
        assertThat(s.selectorMode()).isEqualTo(SelectorMode.ALL_OF);
        assertThat(s.matchLabels()).containsEntry("app", "redis");
        assertThat(s.matchExpressions()).hasSize(2);
        assertThat(s.namespaceLabel()).isEqualTo("capo.io/reserve=yes");
        assertThat(s.calicoApiVersion()).isEqualTo("crd.projectcalico.org/v1");
        assertThat(s.reservationObjects()).isEqualTo(4);
        assertThat(s.webhookPort()).isEqualTo(9444);
        assertThat(s.managementPort()).isEqualTo(8181);
        assertThat(s.certDir()).isEqualTo("/tmp/certs");
        assertThat(s.leaderElection().resourceNamespace()).isEqualTo("capo-leases");
        assertThat(s.leaderElection().resourceName()).isEqualTo("capo-leader");
        assertThat(loaded.warnings()).isEmpty();

        JsonNode routes = all.one("ConfigMap", "capo-all-routes").path("data");
        assertThat(routes.path("release.camel.yaml").asText()).startsWith("# replaced release route");
        assertThat(routes.has("extra.camel.yaml")).isTrue();
        assertThat(routes.has("admission-webhook.camel.yaml")).isTrue();
    }

    @Test
    void everyOptionMonitoringAndNetworkPolicy() {
        JsonNode monitor = all.only("ServiceMonitor");
        assertThat(monitor.path("metadata").path("namespace").asText()).isEqualTo("monitoring");
        assertThat(monitor.path("metadata").path("labels").path("release").asText()).isEqualTo("prometheus");
        JsonNode endpoint = monitor.path("spec").path("endpoints").get(0);
        assertThat(endpoint.path("port").asText()).isEqualTo("http-metrics");
        assertThat(endpoint.path("path").asText()).isEqualTo("/observe/metrics");
        assertThat(endpoint.path("interval").asText()).isEqualTo("15s");
        assertThat(endpoint.path("relabelings")).hasSize(1);
        assertThat(endpoint.path("metricRelabelings")).hasSize(1);
        assertThat(texts(monitor.path("spec").path("namespaceSelector").path("matchNames"))).containsExactly("ip-reserve");
        JsonNode metricsService = all.one("Service", "capo-all-metrics-service");
        monitor.path("spec").path("selector").path("matchLabels").fields().forEachRemaining(label ->
                assertThat(metricsService.path("metadata").path("labels").path(label.getKey()).asText())
                        .isEqualTo(label.getValue().asText()));
        assertThat(byName(metricsService.path("spec").path("ports"), "http-metrics")).isPresent();

        JsonNode rules = all.only("PrometheusRule");
        assertThat(rules.path("metadata").path("namespace").asText()).isEqualTo("monitoring");
        JsonNode group = rules.path("spec").path("groups").get(0).path("rules");
        List<String> alerts = group.findValuesAsText("alert");
        assertThat(alerts).contains("CapoInstancesDown", "CapoIpReserveNearMax", "CapoLeaderMissing",
                "CapoLeaderChanged", "CapoWebhookDenials", "CapoFailures", "CapoWebhookSlow",
                "CapoLateReservations", "CapoExtra");
        assertThat(group.get(0).path("expr").asText())
                .isEqualTo("(sum(up{job=\"capo-all-metrics-service\",namespace=\"ip-reserve\"}) or vector(0)) < 4");
        assertThat(group.get(1).path("expr").asText()).contains("> 0.9 * max by (instance)");
        assertThat(group.get(0).path("labels").path("team").asText()).isEqualTo("network");

        JsonNode dashboard = all.one("ConfigMap", "capo-all-grafana-dashboard");
        assertThat(dashboard.path("metadata").path("namespace").asText()).isEqualTo("monitoring");
        assertThat(dashboard.path("metadata").path("labels").path("grafana_dashboard").asText()).isEqualTo("1");
        assertThat(dashboard.path("metadata").path("annotations").path("grafana_folder").asText()).isEqualTo("Network");
        assertThat(dashboard.path("data").path("capo.json").asText()).contains("\"uid\": \"capo-ip-reserve\"");

        JsonNode policy = all.only("NetworkPolicy").path("spec");
        assertThat(texts(policy.path("policyTypes"))).containsExactly("Ingress");
        assertThat(policy.path("ingress").get(0).path("ports").get(0).path("port").asText()).isEqualTo("webhook");
        assertThat(policy.path("ingress").get(0).path("from").get(0).path("ipBlock").path("cidr").asText()).isEqualTo("10.0.0.0/8");
        assertThat(policy.path("ingress").get(1).path("ports").get(0).path("port").asText()).isEqualTo("jolokia");

        JsonNode test = Manifests.of(ChartRenderer.renderTests(ChartRenderer.projectRoot().resolve(ALL_OPTIONS),
                "capo", "ip-reserve", Map.of())).one("Pod", "capo-all-test-webhook").path("spec");
        assertThat(test.path("containers").get(0).path("image").asText()).isEqualTo("registry.example.com/curl:8.12.0");
        assertThat(texts(test.path("containers").get(0).path("command")).get(2))
                .contains("--insecure", "https://capo-all-webhook-service.ip-reserve.svc:8443/pod-ip-reservation");
        assertThat(test.has("volumes")).isFalse();
    }

    // ---------------------------------------------------------------- other paths

    @Test
    void theServingKeyCanBeEcdsa() {
        JsonNode rsa = defaults.one("Certificate", "capo-serving-cert").path("spec");
        assertThat(rsa.path("privateKey").path("algorithm").asText()).isEqualTo("RSA");
        assertThat(rsa.path("privateKey").path("size").asInt()).isEqualTo(2048);
        assertThat(rsa.path("usages").toString()).contains("key encipherment");

        Manifests m = Manifests.of(ChartRenderer.render(null, "capo", "ip-reserve",
                Map.of("webhook.certManager.privateKey.algorithm", "ECDSA")));
        JsonNode ecdsa = m.one("Certificate", "capo-serving-cert").path("spec");
        assertThat(ecdsa.path("privateKey").path("algorithm").asText()).isEqualTo("ECDSA");
        assertThat(ecdsa.path("privateKey").path("size").asInt()).isEqualTo(256);
        assertThat(ecdsa.path("privateKey").path("encoding").asText()).isEqualTo("PKCS8");
        assertThat(ecdsa.path("usages").toString()).as("no key encipherment with an EC key")
                .doesNotContain("key encipherment").contains("digital signature");
    }

    @Test
    void withoutCertManagerTheChartGeneratesTheCertificate() throws Exception {
        Manifests m = Manifests.of(ChartRenderer.render(null, "capo", "ip-reserve",
                Map.of("webhook.certManager.enabled", false, "webhook.generatedCert.reuseExisting", false)));
        assertThat(m.ofKind("Certificate")).isEmpty();
        assertThat(m.ofKind("Issuer")).isEmpty();
        JsonNode secret = m.one("Secret", "capo-webhook-tls");
        assertThat(secret.path("type").asText()).isEqualTo("kubernetes.io/tls");
        JsonNode vwc = m.only("ValidatingWebhookConfiguration");
        assertThat(vwc.path("metadata").path("annotations").path("cert-manager.io/inject-ca-from").isMissingNode()).isTrue();
        String caBundle = vwc.path("webhooks").get(0).path("clientConfig").path("caBundle").asText();
        assertThat(caBundle).isEqualTo(secret.path("data").path("ca.crt").asText());

        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        X509Certificate ca = (X509Certificate) factory.generateCertificate(
                new ByteArrayInputStream(Base64.getDecoder().decode(caBundle)));
        X509Certificate serving = (X509Certificate) factory.generateCertificate(
                new ByteArrayInputStream(Base64.getDecoder().decode(secret.path("data").path("tls.crt").asText())));
        serving.verify(ca.getPublicKey());
        List<String> sans = new ArrayList<>();
        serving.getSubjectAlternativeNames().forEach(san -> sans.add(String.valueOf(san.get(1))));
        assertThat(sans).contains("capo-webhook-service.ip-reserve.svc", "capo-webhook-service.ip-reserve.svc.cluster.local");
        String key = new String(Base64.getDecoder().decode(secret.path("data").path("tls.key").asText()), StandardCharsets.US_ASCII);
        assertThat(key).startsWith("-----BEGIN RSA PRIVATE KEY-----"); // PKCS#1, which WebhookTls reads
    }

    @Test
    void goCapoChartValuesKeepWorking() {
        Map<String, Object> goValues = Map.of(
                "replicaCount", 2,
                "config.leaderElectionEnable", false,
                "config.healthProbeBindAddress", ":8081",
                "config.webhookPort", 9443,
                "config.metricsBindAddress", ":8080",
                "config.ipReserveMaxCount", 250,
                "config.ipReserveTime", "30m",
                "config.ipReleasePeriod", "5s",
                "service.type", "ClusterIP");
        Manifests m = Manifests.of(ChartRenderer.render(null, "capo", "ip-reserve", goValues));
        assertThat(m.only("Deployment").path("spec").path("replicas").asInt()).isEqualTo(2);
        CapoSettings s = loadConfig(m).settings();
        assertThat(s.leaderElection().leaderElect()).isFalse();
        assertThat(s.ipReserveMaxCount()).isEqualTo(250);
        assertThat(s.ipReserveTime()).isEqualTo(Duration.ofMinutes(30));
        assertThat(s.healthProbePort()).isEqualTo(8081);
        // probes follow metricsBindAddress, where Capo serves health
        assertProbe(capo(m.only("Deployment")).path("livenessProbe"), "/observe/health/live", 8080);
    }

    @Test
    void antiAffinityPresets() {
        Manifests preferred = Manifests.of(ChartRenderer.render(null, "capo", "ip-reserve", Map.of("podAntiAffinity", "preferred")));
        JsonNode terms = podSpec(preferred.only("Deployment")).path("affinity").path("podAntiAffinity")
                .path("preferredDuringSchedulingIgnoredDuringExecution");
        assertThat(terms.get(0).path("podAffinityTerm").path("topologyKey").asText()).isEqualTo("kubernetes.io/hostname");
        Manifests none = Manifests.of(ChartRenderer.render(null, "capo", "ip-reserve",
                Map.of("podAntiAffinity", "none", "routes.enabled", false, "preStop.enabled", true)));
        JsonNode deployment = none.only("Deployment");
        assertThat(podSpec(deployment).has("affinity")).isFalse();
        assertThat(none.find("ConfigMap", "capo-routes")).isEmpty();
        assertThat(byName(capo(deployment).path("env"), "CAPO_ROUTES_DIR")).isEmpty();
        assertThat(capo(deployment).path("lifecycle").path("preStop").path("sleep").path("seconds").asInt()).isEqualTo(5);
    }

    @Test
    void withoutLeaderElectionEachReplicasLeaseCannotBeNamedInTheRole() {
        // each replica then renews a Lease named after its pod (resourceName-<pod>), unknown when rendering
        Manifests single = Manifests.of(ChartRenderer.render(null, "capo", "ip-reserve",
                Map.of("config.leaderElectionEnable", "false", "replicaCount", "1")));
        assertThat(rules(single.one("Role", "capo-manager"))).contains("[coordination.k8s.io] [leases] [] [create]",
                "[coordination.k8s.io] [leases] [] [get, update, patch]");
    }

    @Test
    void invalidValuesFailTheRendering() {
        assertThatThrownBy(() -> ChartRenderer.render(null, "capo", "ip-reserve", Map.of("config.namespaceLabel", "nolabel")))
                .hasMessageContaining("config.namespaceLabel");
        assertThatThrownBy(() -> ChartRenderer.render(null, "capo", "ip-reserve", Map.of("config.calicoApiVersion", "v9")))
                .hasMessageContaining("config.calicoApiVersion");
        assertThatThrownBy(() -> ChartRenderer.render(null, "capo", "ip-reserve", Map.of("podAntiAffinity", "sometimes")))
                .hasMessageContaining("podAntiAffinity");
        assertThatThrownBy(() -> ChartRenderer.render(null, "capo", "ip-reserve", Map.of("config.metricsBindAddress", "8080")))
                .hasMessageContaining(ChartSchemaTest.SCHEMA_ERROR).hasMessageContaining("config.metricsBindAddress");
    }

    @Test
    void everyValueIsDocumented() throws Exception {
        ValuesDoc.Result values = ValuesDoc.parse(Files.readString(ChartRenderer.chartDir().resolve("values.yaml")));
        assertThat(values.undocumented()).as("keys without a '# --' comment").isEmpty();
        List<String> paths = values.entries().stream().map(ValuesDoc.Entry::path).toList();
        assertThat(paths).contains("replicaCount", "config.leaderElectionEnable", "config.healthProbeBindAddress",
                "config.webhookPort", "config.metricsBindAddress", "config.ipReserveMaxCount", "config.ipReserveTime",
                "config.ipReleasePeriod", "image.repository", "image.tag", "image.pullPolicy", "image.pullSecrets",
                "nameOverride", "fullnameOverride", "podAnnotations", "podSecurityContext", "securityContext",
                "service.type", "service.port", "resources", "autoscaling.enabled", "autoscaling.minReplicas",
                "autoscaling.maxReplicas", "autoscaling.targetCPUUtilizationPercentage", "nodeSelector", "tolerations",
                "affinity", "webhook.failurePolicy", "webhook.timeoutSeconds", "webhook.certManager.enabled");
        assertThat(values.entries()).allMatch(e -> !e.description().isBlank());
    }

    // ---------------------------------------------------------------- helpers

    static LoadedConfig loadConfig(Manifests m) {
        return new CapoConfigLoader().parse(configText(m), Map.of());
    }

    static String configText(Manifests m) {
        return m.ofKind("ConfigMap").stream().filter(c -> c.path("data").has("capo_config.yaml")).findFirst()
                .orElseThrow().path("data").path("capo_config.yaml").asText();
    }

    static JsonNode podSpec(JsonNode deployment) {
        return deployment.path("spec").path("template").path("spec");
    }

    static JsonNode capo(JsonNode deployment) {
        return byName(podSpec(deployment).path("containers"), "capo").orElseThrow();
    }

    static int containerPort(JsonNode deployment, String name) {
        return byName(capo(deployment).path("ports"), name).orElseThrow().path("containerPort").asInt();
    }

    static String mountPath(JsonNode container, String volume) {
        return byName(container.path("volumeMounts"), volume).orElseThrow().path("mountPath").asText();
    }

    static String envValue(JsonNode container, String name) {
        return byName(container.path("env"), name).orElseThrow().path("value").asText();
    }

    static void assertProbe(JsonNode probe, String path, int port) {
        assertThat(probe.path("httpGet").path("path").asText()).isEqualTo(path);
        assertThat(probe.path("httpGet").path("port").asInt()).isEqualTo(port);
        assertThat(probe.path("httpGet").path("scheme").asText()).isEqualTo("HTTP");
    }

    /** RBAC rules as "[groups] [resources] [resourceNames] [verbs]"; webhook rules as "OPS GROUPS VERSIONS RESOURCES SCOPE". */
    static List<String> rules(JsonNode object) {
        List<String> out = new ArrayList<>();
        for (JsonNode rule : object.path("rules")) {
            if (rule.has("verbs")) {
                out.add(texts(rule.path("apiGroups")) + " " + texts(rule.path("resources")) + " "
                        + texts(rule.path("resourceNames")) + " " + texts(rule.path("verbs")));
            } else {
                out.add(String.join(",", texts(rule.path("operations"))) + " " + String.join(",", texts(rule.path("apiGroups")))
                        + " " + String.join(",", texts(rule.path("apiVersions"))) + " "
                        + String.join(",", texts(rule.path("resources"))) + " " + rule.path("scope").asText());
            }
        }
        return out;
    }
}
