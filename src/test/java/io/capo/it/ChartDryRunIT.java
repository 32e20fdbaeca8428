package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capo.deploy.ChartRenderer;
import io.capo.deploy.OperatorCrds;
import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.FieldValidateable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Everything users install, applied to a real kube-apiserver with server-side dry-run and strict field validation:
 * the Helm chart (defaults, every option on, without cert-manager, plus its {@code helm test} Pod),
 * {@code deploy/yaml/install.yaml} and the kustomize base and overlays. The cert-manager and Prometheus Operator
 * CRDs are generated from fabric8's typed models ({@link OperatorCrds}) and installed first, so their objects are
 * validated against a schema too.
 *
 * <p>Namespaces the objects live in are created for real (from the rendering's Namespace object when it has one,
 * so its Pod Security labels apply), with a {@code default} ServiceAccount as the controller manager, absent here,
 * would make. Each Deployment's pod template is also dry-run as a Pod in a namespace enforcing the restricted Pod
 * Security Standard.
 */
class ChartDryRunIT {

    private static final Logger LOG = LoggerFactory.getLogger(ChartDryRunIT.class);
    private static final Path ALL_OPTIONS = Path.of("src/test/resources/deploy/all-options-values.yaml");
    private static final String PSA_NAMESPACE = "capo-dry-run-restricted";

    private static KubernetesClient client;
    private static final Map<String, APIResourceList> DISCOVERY = new HashMap<>();

    @BeforeAll
    static void installOperatorCrds() {
        // server-side apply answers a schema violation with 500, which fabric8 would retry for ~20 s
        client = KubeApiServerFixture.get().newClientWithoutRetries();
        Map<String, CustomResourceDefinition> crds = OperatorCrds.generate();
        assertThat(crds.keySet()).contains("certificates.cert-manager.io", "issuers.cert-manager.io",
                "servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com");
        for (CustomResourceDefinition crd : crds.values()) {
            client.apiextensions().v1().customResourceDefinitions().resource(crd).forceConflicts().serverSideApply();
        }
        for (String name : crds.keySet()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> established(name));
        }
        ensureNamespace(PSA_NAMESPACE, Map.of("pod-security.kubernetes.io/enforce", "restricted",
                "pod-security.kubernetes.io/enforce-version", "latest"));
    }

    // ---------------------------------------------------------------- the chart

    @Test
    void chartWithDefaultValues() {
        List<JsonNode> objects = ChartRenderer.documents(ChartRenderer.render(null));
        objects.addAll(ChartRenderer.documents(ChartRenderer.renderTests(null, ChartRenderer.RELEASE_NAME,
                ChartRenderer.NAMESPACE, Map.of())));
        Set<String> kinds = dryRunAll("chart (default values)", objects);
        assertThat(kinds).contains("Deployment", "ValidatingWebhookConfiguration", "Issuer", "Certificate", "Pod");
    }

    @Test
    void chartWithEveryOption() {
        Path values = ChartRenderer.projectRoot().resolve(ALL_OPTIONS);
        List<JsonNode> objects = ChartRenderer.documents(ChartRenderer.render(values));
        objects.addAll(ChartRenderer.documents(ChartRenderer.renderTests(values, ChartRenderer.RELEASE_NAME,
                ChartRenderer.NAMESPACE, Map.of())));
        Set<String> kinds = dryRunAll("chart (" + ALL_OPTIONS.getFileName() + ")", objects);
        assertThat(kinds).contains("Deployment", "Certificate", "ServiceMonitor", "PrometheusRule",
                "NetworkPolicy", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Pod");
    }

    @Test
    void chartWithoutCertManager() {
        List<JsonNode> objects = ChartRenderer.documents(ChartRenderer.render(null, ChartRenderer.RELEASE_NAME,
                ChartRenderer.NAMESPACE, Map.of("webhook.certManager.enabled", false, "webhook.generatedCert.reuseExisting", false)));
        Set<String> kinds = dryRunAll("chart (webhook.certManager.enabled=false)", objects);
        assertThat(kinds).contains("Secret", "ValidatingWebhookConfiguration").doesNotContain("Certificate");
    }

    @Test
    void chartWithClientCertificateAuthentication() {
        Map<String, Object> set = Map.of("webhook.clientAuth.enabled", true,
                "webhook.clientAuth.caSecret", "apiserver-client-ca",
                "webhook.clientAuth.allowedNames[0]", "kube-apiserver",
                "tests.clientCertSecret", "helm-test-client");
        List<JsonNode> objects = ChartRenderer.documents(ChartRenderer.render(null, ChartRenderer.RELEASE_NAME,
                ChartRenderer.NAMESPACE, set));
        objects.addAll(ChartRenderer.documents(ChartRenderer.renderTests(null, ChartRenderer.RELEASE_NAME,
                ChartRenderer.NAMESPACE, set)));
        Set<String> kinds = dryRunAll("chart (webhook.clientAuth.enabled=true)", objects);
        assertThat(kinds).contains("Deployment", "Pod");
    }

    /**
     * The optional values of the chart that only the API server can judge: the webhook's matchConditions (their CEL
     * is compiled when the ValidatingWebhookConfiguration is admitted, dry-run included) for both selector modes
     * with every operator, plus an extra condition; and the FlowSchema with its PriorityLevelConfiguration.
     */
    @Test
    void chartWithMatchConditionsAndFlowControl() {
        Map<String, Object> set = new HashMap<>(Map.of("webhook.matchConditions.enabled", true,
                "webhook.matchConditions.extra[0].name", "not-kube-system",
                "webhook.matchConditions.extra[0].expression", "request.namespace != 'kube-system'",
                "flowControl.enabled", true));
        List<JsonNode> anyOf = ChartRenderer.documents(ChartRenderer.render(null, ChartRenderer.RELEASE_NAME,
                ChartRenderer.NAMESPACE, set));
        Set<String> kinds = dryRunAll("chart (matchConditions, flowControl)", anyOf);
        assertThat(kinds).contains("ValidatingWebhookConfiguration", "FlowSchema", "PriorityLevelConfiguration");
        JsonNode hook = only(anyOf, "ValidatingWebhookConfiguration").path("webhooks").get(0);
        assertThat(hook.path("matchConditions").findValuesAsText("name")).containsExactly("capo-may-park", "not-kube-system");

        List<JsonNode> allOf = ChartRenderer.documents(ChartRenderer.render(
                ChartRenderer.projectRoot().resolve(ALL_OPTIONS), ChartRenderer.RELEASE_NAME, ChartRenderer.NAMESPACE,
                set));
        dryRunAll("chart (" + ALL_OPTIONS.getFileName() + ", matchConditions, flowControl)", allOf);

        ObjectNode broken = (ObjectNode) only(anyOf, "ValidatingWebhookConfiguration").deepCopy();
        ((ObjectNode) broken.path("webhooks").get(0).path("matchConditions").get(0)).put("expression",
                "oldObject.metadata.labels[");
        assertThatThrownBy(() -> dryRunAll("a matchCondition that does not compile", List.of(broken)))
                .isInstanceOf(AssertionError.class).hasMessageContaining("compilation failed");
    }

    // ---------------------------------------------------------------- plain manifests

    @Test
    void installYaml() throws IOException {
        String yaml = Files.readString(ChartRenderer.projectRoot().resolve("deploy/yaml/install.yaml"));
        Set<String> kinds = dryRunAll("deploy/yaml/install.yaml", ChartRenderer.documents(yaml));
        assertThat(kinds).contains("Namespace", "Deployment", "ServiceMonitor", "PrometheusRule", "Certificate");
    }

    static Stream<Arguments> kustomizations() throws IOException {
        Path root = ChartRenderer.projectRoot();
        List<String> dirs = new ArrayList<>(List.of("deploy/kustomize/base"));
        try (Stream<Path> overlays = Files.list(root.resolve("deploy/kustomize/overlays"))) {
            overlays.filter(d -> Files.isRegularFile(d.resolve("kustomization.yaml"))).sorted()
                    .forEach(d -> dirs.add(root.relativize(d).toString()));
        }
        return dirs.stream().map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void kustomize(String dir) throws Exception {
        Set<String> kinds = dryRunAll("kubectl kustomize " + dir, ChartRenderer.documents(kustomizeBuild(dir)));
        assertThat(kinds).contains("Deployment", "ValidatingWebhookConfiguration");
    }

    // ---------------------------------------------------------------- the check itself

    /** The dry run is no rubber stamp: a misspelt field, a wrong type or a privileged container is refused. */
    @Test
    void theDryRunRefusesWhatIsInvalid() {
        List<JsonNode> objects = ChartRenderer.documents(ChartRenderer.render(
                ChartRenderer.projectRoot().resolve(ALL_OPTIONS)));
        ObjectNode serviceMonitor = (ObjectNode) only(objects, "ServiceMonitor").deepCopy();
        ((ObjectNode) serviceMonitor.path("spec").path("endpoints").get(0)).put("scrapeIntervall", "15s");
        ObjectNode certificate = (ObjectNode) only(objects, "Certificate").deepCopy();
        ((ObjectNode) certificate.path("spec")).put("isCA", "yes please");
        ObjectNode deployment = (ObjectNode) only(objects, "Deployment").deepCopy();
        ((ObjectNode) deployment.path("spec").path("template").path("spec")).put("hostNetwork", true);
        ObjectNode service = (ObjectNode) objects.stream().filter(o -> "Service".equals(o.path("kind").asText()))
                .findFirst().orElseThrow().deepCopy();
        ((ObjectNode) service.path("spec")).put("tyype", "ClusterIP");

        for (ObjectNode invalid : List.of(serviceMonitor, certificate, service)) {
            assertThatThrownBy(() -> dryRunAll("invalid " + describe(invalid), List.of(invalid)))
                    .as(describe(invalid)).isInstanceOf(AssertionError.class).hasMessageContaining("refused");
        }
        assertThatThrownBy(() -> dryRunAll("privileged Deployment", List.of(deployment)))
                .isInstanceOf(AssertionError.class).hasMessageContaining("restricted Pod Security")
                .hasMessageContaining("host namespaces");
    }

    private static JsonNode only(List<JsonNode> objects, String kind) {
        List<JsonNode> ofKind = objects.stream().filter(o -> kind.equals(o.path("kind").asText())).toList();
        assertThat(ofKind).as(kind).hasSize(1);
        return ofKind.get(0);
    }

    // ---------------------------------------------------------------- the dry run

    /** Dry-runs every object, then fails listing every refused one; returns the kinds applied. */
    private static Set<String> dryRunAll(String source, List<JsonNode> objects) {
        assertThat(objects).as(source + " renders nothing").isNotEmpty();
        List<String> failures = new ArrayList<>();
        Set<String> kinds = new LinkedHashSet<>();
        // the namespaces first, for real: a namespaced dry-run needs its namespace to exist
        Map<String, JsonNode> namespaceObjects = objects.stream()
                .filter(o -> "Namespace".equals(o.path("kind").asText()))
                .collect(Collectors.toMap(o -> o.path("metadata").path("name").asText(), o -> o, (a, b) -> a));
        for (JsonNode object : objects) {
            String namespace = namespaceOf(object);
            if (namespace != null) {
                JsonNode declared = namespaceObjects.get(namespace);
                Map<String, String> labels = declared == null ? Map.of()
                        : client.getKubernetesSerialization().convertValue(
                                declared.path("metadata").path("labels"), Map.class);
                ensureNamespace(namespace, labels == null ? Map.of() : labels);
            }
        }
        for (JsonNode object : objects) {
            String what = describe(object);
            try {
                dryRun(object);
                kinds.add(object.path("kind").asText());
                if ("Deployment".equals(object.path("kind").asText())) {
                    dryRunRestricted(object.path("metadata").path("name").asText() + "-pod-template",
                            object.path("spec").path("template"));
                } else if ("Pod".equals(object.path("kind").asText())) {
                    dryRunRestricted(object.path("metadata").path("name").asText(), object);
                }
            } catch (KubernetesClientException e) {
                failures.add(what + ": " + message(e));
            } catch (RuntimeException e) {
                failures.add(what + ": " + e);
            }
        }
        LOG.info("{}: {} objects dry-run, {} refused{}", source, objects.size(), failures.size(),
                failures.stream().map(f -> "\n  " + f).collect(Collectors.joining()));
        assertThat(failures).as("%s: objects refused by the API server (server-side dry-run):%n  %s", source,
                String.join("\n  ", failures)).isEmpty();
        return kinds;
    }

    private static void dryRun(JsonNode object) {
        GenericKubernetesResource resource = toResource(object);
        String namespace = namespaceOf(object);
        if (namespace != null) {
            resource.getMetadata().setNamespace(namespace);
        }
        client.resource(resource).dryRun().fieldValidation(FieldValidateable.Validation.STRICT)
                .fieldManager("capo-chart-dry-run").forceConflicts().serverSideApply();
    }

    /** A Pod (or pod template) as a Pod in a namespace that enforces the restricted Pod Security Standard. */
    private static void dryRunRestricted(String name, JsonNode template) {
        ObjectNode pod = client.getKubernetesSerialization().convertValue(Map.of(
                "apiVersion", "v1", "kind", "Pod", "metadata", Map.of("name", name, "namespace", PSA_NAMESPACE)),
                ObjectNode.class);
        if (template.path("metadata").has("labels")) {
            ((ObjectNode) pod.get("metadata")).set("labels", template.path("metadata").path("labels"));
        }
        pod.set("spec", template.path("spec"));
        String serviceAccount = template.path("spec").path("serviceAccountName").asText("");
        if (!serviceAccount.isEmpty()) {
            ensureServiceAccount(PSA_NAMESPACE, serviceAccount);
        }
        try {
            client.resource(toResource(pod)).dryRun().fieldValidation(FieldValidateable.Validation.STRICT).create();
        } catch (KubernetesClientException e) {
            throw new KubernetesClientException("as a Pod in a namespace enforcing restricted Pod Security: "
                    + message(e), e);
        }
    }

    private static GenericKubernetesResource toResource(JsonNode object) {
        return client.getKubernetesSerialization().convertValue(object, GenericKubernetesResource.class);
    }

    /** The object's namespace: its own, else the release namespace when its kind is namespaced; null if cluster-scoped. */
    private static String namespaceOf(JsonNode object) {
        String apiVersion = object.path("apiVersion").asText();
        String kind = object.path("kind").asText();
        APIResourceList resources = DISCOVERY.computeIfAbsent(apiVersion, client::getApiResources);
        APIResource resource = resources == null ? null : resources.getResources().stream()
                .filter(r -> kind.equals(r.getKind()) && !r.getName().contains("/")).findFirst().orElse(null);
        if (resource == null) {
            DISCOVERY.remove(apiVersion);
            throw new KubernetesClientException("the API server serves no " + kind + " in " + apiVersion);
        }
        if (!Boolean.TRUE.equals(resource.getNamespaced())) {
            return null;
        }
        String namespace = object.path("metadata").path("namespace").asText("");
        return namespace.isEmpty() ? ChartRenderer.NAMESPACE : namespace;
    }

    private static void ensureNamespace(String name, Map<String, String> labels) {
        if (client.namespaces().withName(name).get() == null) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name)
                    .withLabels(labels).endMetadata().build()).create();
        }
        ensureServiceAccount(name, "default");
    }

    private static void ensureServiceAccount(String namespace, String name) {
        if (client.serviceAccounts().inNamespace(namespace).withName(name).get() == null) {
            client.serviceAccounts().inNamespace(namespace).resource(new ServiceAccountBuilder()
                    .withNewMetadata().withName(name).endMetadata().build()).create();
        }
    }

    private static boolean established(String crd) {
        CustomResourceDefinition current = client.apiextensions().v1().customResourceDefinitions().withName(crd).get();
        return current != null && current.getStatus() != null && current.getStatus().getConditions() != null
                && current.getStatus().getConditions().stream()
                .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static String describe(JsonNode object) {
        String namespace = object.path("metadata").path("namespace").asText("");
        return object.path("kind").asText() + "/" + object.path("metadata").path("name").asText()
                + (namespace.isEmpty() ? "" : " (namespace " + namespace + ")");
    }

    private static String message(KubernetesClientException e) {
        if (e.getStatus() != null && e.getStatus().getMessage() != null) {
            String causes = e.getStatus().getDetails() == null || e.getStatus().getDetails().getCauses() == null
                    || e.getStatus().getDetails().getCauses().isEmpty() ? ""
                    : e.getStatus().getDetails().getCauses().stream()
                    .map(c -> c.getField() + ": " + c.getMessage()).collect(Collectors.joining("; ", " [", "]"));
            return e.getCode() + " " + e.getStatus().getMessage() + causes;
        }
        return e.getMessage();
    }

    // ---------------------------------------------------------------- kubectl kustomize

    private static String kustomizeBuild(String dir) throws IOException, InterruptedException {
        Path out = Files.createTempFile("capo-kustomize", ".yaml");
        Path err = Files.createTempFile("capo-kustomize", ".err");
        try {
            Process process = new ProcessBuilder(kubectl(), "kustomize", dir)
                    .directory(ChartRenderer.projectRoot().toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("kubectl kustomize " + dir + " did not finish in 60 s");
            }
            assertThat(process.exitValue()).as("kubectl kustomize %s: %s", dir,
                    Files.readString(err, StandardCharsets.UTF_8)).isZero();
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** kubectl from PATH, else the one provisioned beside kube-apiserver (scripts/provision-kube-binaries.sh). */
    private static String kubectl() {
        for (String dir : Objects.requireNonNullElse(System.getenv("PATH"), "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "kubectl"))) {
                return Path.of(dir, "kubectl").toString();
            }
        }
        String base = Objects.requireNonNullElse(System.getenv("KUBE_API_TEST_DIR"),
                System.getProperty("user.home") + File.separator + ".kubeapitest");
        File[] versions = Path.of(base, "k8s").toFile().listFiles(d -> new File(d, "kubectl").canExecute());
        if (versions == null || versions.length == 0) {
            throw new AssertionError("no kubectl on PATH nor under " + base + "/k8s");
        }
        java.util.Arrays.sort(versions);
        return new File(versions[versions.length - 1], "kubectl").getPath();
    }
}
