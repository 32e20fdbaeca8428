package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.capo.reservation.SelectorRequirement;
import io.capo.deploy.ChartRenderer;
import io.capo.reservation.Selection;
import io.capo.reservation.SelectionPolicy;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.EvictionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The chart's {@code webhook.matchConditions} evaluated by a real API server: the rendered conditions are put into a
 * ValidatingAdmissionPolicy (same CEL variables as a webhook's matchConditions: object, oldObject, request) whose
 * only validation denies, bound to a namespace of test pods. A dry-run deletion that is denied is one the API server
 * would send to Capo's webhook. For every selector shape the chart accepts, over every combination of the labels the
 * selector names and of the {@code capo.io/ip-reserve} annotation, the API server calls Capo exactly for the pods
 * whose labels match as Capo's {@link Selection} matches them or that carry the annotation: never skipping a pod
 * Capo would park, and skipping the others. Evictions (whose object is not the pod) always call Capo.
 */
class WebhookMatchConditionsIT {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookMatchConditionsIT.class);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DENIED = "Capo's webhook would be called";

    private static KubernetesClient client;
    private static final List<String> CREATED = new ArrayList<>();

    @BeforeAll
    static void connect() {
        client = KubeApiServerFixture.get().newClientWithoutRetries();
    }

    @AfterAll
    static void cleanUp() {
        for (String name : CREATED) {
            client.genericKubernetesResources("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding")
                    .withName(name).delete();
            client.genericKubernetesResources("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy")
                    .withName(name).delete();
            client.namespaces().withName(name).delete();
        }
    }

    record Shape(String name, boolean anyOf, Map<String, String> matchLabels, List<SelectorRequirement> expressions) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> shapes() {
        return Stream.of(
                new Shape("defaults", true, Map.of(), List.of(SelectorRequirement.exists("statefulset.kubernetes.io/pod-name"),
                        SelectorRequirement.exists("brokerId"))),
                new Shape("allOf with every operator", false, Map.of("app", "redis"), List.of(
                        new SelectorRequirement("tier", "In", List.of("data", "cache")),
                        new SelectorRequirement("zone", "NotIn", List.of("a")),
                        SelectorRequirement.exists("brokerId"),
                        new SelectorRequirement("capo.example.com/skip", "DoesNotExist", List.of()))),
                new Shape("anyOf with every operator", true, Map.of("app", "redis"), List.of(
                        new SelectorRequirement("tier", "In", List.of("data", "cache")),
                        new SelectorRequirement("zone", "NotIn", List.of("a")),
                        new SelectorRequirement("capo.example.com/skip", "DoesNotExist", List.of()))),
                new Shape("anyOf, no requirement", true, Map.of(), List.of()),
                new Shape("allOf, no requirement", false, Map.of(), List.of())
        ).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void theApiServerCallsCapoForEveryPodCapoWouldPark(Shape shape) throws IOException {
        JsonNode webhook = renderWebhook(shape);
        String name = "capo-mc-" + Integer.toHexString(shape.name().hashCode() & 0xfffffff);
        installProbe(name, webhook);

        SelectionPolicy policy = policy(shape);
        List<Map<String, String>> labelSets = labelCombinations(shape);
        int called = 0;
        int skipped = 0;
        int i = 0;
        for (Map<String, String> labels : labelSets) {
            for (String annotation : new String[]{null, "true", "false"}) {
                String pod = "p-" + i++;
                create(name, pod, labels, annotation);
                boolean capoWouldPark = !"false".equals(annotation)
                        && ("true".equals(annotation) || Selection.matches(policy, labels));
                boolean expectedCall = annotation != null || Selection.matches(policy, labels);
                boolean calls = deletionCallsCapo(name, pod);
                if (capoWouldPark) {
                    assertThat(calls).as("pod %s labels %s annotation %s: Capo would park it", pod, labels, annotation)
                            .isTrue();
                }
                assertThat(calls).as("pod %s labels %s annotation %s", pod, labels, annotation).isEqualTo(expectedCall);
                if (calls) {
                    called++;
                } else {
                    skipped++;
                }
            }
        }
        LOG.info("{}: {} pods, {} deletions call Capo, {} are skipped by the API server", shape, i, called, skipped);
        assertThat(called).isPositive();
        if (!shape.name().startsWith("allOf, no")) {
            assertThat(skipped).as("the conditions skip pods Capo would allow").isPositive();
        } else {
            assertThat(skipped).isZero();
        }

        // an eviction carries an Eviction, not the pod: always sent to Capo, whatever the pod's labels
        String plain = "evicted";
        create(name, plain, Map.of("unrelated", "x"), null);
        assertThat(evictionCallsCapo(name, plain)).isTrue();
    }

    // ---------------------------------------------------------------- the chart

    private static JsonNode renderWebhook(Shape shape) throws IOException {
        Map<String, Object> selector = new LinkedHashMap<>();
        selector.put("matchLabels", shape.matchLabels());
        List<Map<String, Object>> expressions = new ArrayList<>();
        for (SelectorRequirement r : shape.expressions()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("key", r.key());
            e.put("operator", r.operator());
            if (!r.values().isEmpty()) {
                e.put("values", r.values());
            }
            expressions.add(e);
        }
        selector.put("matchExpressions", expressions);
        Path values = Files.createTempFile("capo-match-conditions", ".yaml");
        try {
            YAML.writeValue(values.toFile(), Map.of(
                    "config", Map.of("labelSelector", selector, "selectorMode", shape.anyOf() ? "anyOf" : "allOf"),
                    "webhook", Map.of("matchConditions", Map.of("enabled", true))));
            JsonNode vwc = ChartRenderer.documents(ChartRenderer.render(values)).stream()
                    .filter(o -> o.path("kind").asText().equals("ValidatingWebhookConfiguration")).findFirst()
                    .orElseThrow();
            return vwc.path("webhooks").get(0);
        } finally {
            Files.deleteIfExists(values);
        }
    }

    /** Capo's own reading of the same selector (matchLabels count as In requirements). */
    private static SelectionPolicy policy(Shape shape) {
        List<SelectorRequirement> requirements = new ArrayList<>();
        shape.matchLabels().forEach((k, v) -> requirements.add(new SelectorRequirement(k, "In", List.of(v))));
        requirements.addAll(shape.expressions());
        return new SelectionPolicy("ip-reserve", "enabled", requirements, shape.anyOf());
    }

    /** Every combination of, for each key the selector names: absent, each listed value, another value. */
    private static List<Map<String, String>> labelCombinations(Shape shape) {
        Map<String, List<Optional<String>>> choices = new LinkedHashMap<>();
        shape.matchLabels().forEach((k, v) -> choices.put(k, List.of(Optional.empty(), Optional.of(v), Optional.of("other"))));
        for (SelectorRequirement r : shape.expressions()) {
            List<Optional<String>> options = new ArrayList<>(List.of(Optional.empty(), Optional.of("other")));
            r.values().forEach(v -> options.add(Optional.of(v)));
            choices.merge(r.key(), options, (a, b) -> a);
        }
        if (choices.isEmpty()) {
            choices.put("app", List.of(Optional.empty(), Optional.of("redis")));
        }
        List<Map<String, String>> out = new ArrayList<>(List.of(new LinkedHashMap<>()));
        for (Map.Entry<String, List<Optional<String>>> choice : choices.entrySet()) {
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> partial : out) {
                for (Optional<String> value : choice.getValue()) {
                    Map<String, String> labels = new LinkedHashMap<>(partial);
                    value.ifPresent(v -> labels.put(choice.getKey(), v));
                    next.add(labels);
                }
            }
            out = next;
        }
        return out;
    }

    // ---------------------------------------------------------------- the API server

    /** A namespace of test pods and a policy + binding carrying the webhook's rules and matchConditions. */
    private static void installProbe(String name, JsonNode webhook) {
        CREATED.add(name);
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
                .create();
        client.serviceAccounts().inNamespace(name).resource(new ServiceAccountBuilder().withNewMetadata()
                .withName("default").endMetadata().build()).create();
        ObjectNode policy = JSON.createObjectNode();
        policy.put("apiVersion", "admissionregistration.k8s.io/v1").put("kind", "ValidatingAdmissionPolicy");
        policy.putObject("metadata").put("name", name);
        ObjectNode spec = policy.putObject("spec");
        spec.put("failurePolicy", "Fail");
        spec.putObject("matchConstraints").set("resourceRules", webhook.path("rules"));
        spec.set("matchConditions", webhook.path("matchConditions"));
        spec.putArray("validations").addObject().put("expression", "false").put("message", DENIED);
        ObjectNode binding = JSON.createObjectNode();
        binding.put("apiVersion", "admissionregistration.k8s.io/v1").put("kind", "ValidatingAdmissionPolicyBinding");
        binding.putObject("metadata").put("name", name);
        ObjectNode bindingSpec = binding.putObject("spec");
        bindingSpec.put("policyName", name);
        bindingSpec.putArray("validationActions").add("Deny");
        bindingSpec.putObject("matchResources").putObject("namespaceSelector").putObject("matchLabels")
                .put("kubernetes.io/metadata.name", name);
        assertThat(webhook.path("matchConditions")).as("rendered matchConditions").isNotEmpty();
        client.resource(JSON.convertValue(policy, GenericKubernetesResource.class)).create();
        client.resource(JSON.convertValue(binding, GenericKubernetesResource.class)).create();
        // the policy takes effect once the API server has loaded it: wait for a pod that always calls Capo
        create(name, "probe", Map.of(), "true");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> deletionCallsCapo(name, "probe"));
    }

    private static void create(String namespace, String name, Map<String, String> labels, String annotation) {
        PodBuilder pod = new PodBuilder().withNewMetadata().withName(name).withNamespace(namespace)
                .withLabels(labels).endMetadata()
                .withNewSpec().addNewContainer().withName("c").withImage("registry.example.com/none:1").endContainer()
                .endSpec();
        if (annotation != null) {
            pod.editMetadata().addToAnnotations(SelectionPolicy.RESERVE_ANNOTATION, annotation).endMetadata();
        }
        Pod built = pod.build();
        client.pods().inNamespace(namespace).resource(built).create();
    }

    private static boolean deletionCallsCapo(String namespace, String pod) {
        try {
            client.pods().inNamespace(namespace).withName(pod).dryRun().delete();
            return false;
        } catch (KubernetesClientException e) {
            if (e.getMessage() != null && e.getMessage().contains(DENIED)) {
                return true;
            }
            throw e;
        }
    }

    private static boolean evictionCallsCapo(String namespace, String pod) {
        try {
            boolean evicted = client.pods().inNamespace(namespace).withName(pod).evict(new EvictionBuilder()
                    .withNewMetadata().withName(pod).withNamespace(namespace).endMetadata()
                    .withDeleteOptions(new io.fabric8.kubernetes.api.model.DeleteOptionsBuilder().withDryRun("All").build())
                    .build());
            LOG.info("eviction of {} not denied (evicted: {})", pod, evicted);
            return false;
        } catch (KubernetesClientException e) {
            if (e.getMessage() != null && e.getMessage().contains(DENIED)) {
                return true;
            }
            throw e;
        }
    }
}
