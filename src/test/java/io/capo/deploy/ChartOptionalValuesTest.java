package io.capo.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.capo.deploy.Manifests.texts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The optional values for mass deletions: webhook.matchConditions, flowControl and the generated certificate's
 * key algorithm. What the API server makes of them: WebhookMatchConditionsIT and ChartDryRunIT.
 */
class ChartOptionalValuesTest {

    private static Manifests render(Map<String, ?> set) {
        return Manifests.of(ChartRenderer.render(null, "capo", "ip-reserve", set));
    }

    private static JsonNode webhook(Manifests m) {
        return m.only("ValidatingWebhookConfiguration").path("webhooks").get(0);
    }

    // ---------------------------------------------------------------- matchConditions

    @Test
    void matchConditionsAreOffByDefault() {
        assertThat(webhook(render(Map.of())).has("matchConditions")).isFalse();
    }

    @Test
    void theDefaultSelectorBecomesOneCondition() {
        JsonNode conditions = webhook(render(Map.of("webhook.matchConditions.enabled", true))).path("matchConditions");
        assertThat(conditions).hasSize(1);
        assertThat(conditions.get(0).path("name").asText()).isEqualTo("capo-may-park");
        assertThat(conditions.get(0).path("expression").asText()).isEqualTo(
                "request.operation != 'DELETE' || oldObject == null || (has(oldObject.metadata.annotations) && "
                        + "'capo.io/ip-reserve' in oldObject.metadata.annotations) || "
                        + "((has(oldObject.metadata.labels) && 'statefulset.kubernetes.io/pod-name' in oldObject.metadata.labels)"
                        + " || (has(oldObject.metadata.labels) && 'brokerId' in oldObject.metadata.labels))");
    }

    @Test
    void allOfJoinsTheRequirementsAndMatchLabelsCount() {
        Manifests m = Manifests.of(ChartRenderer.render(ChartRenderer.projectRoot().resolve(HelmChartTest.ALL_OPTIONS),
                "capo", "ip-reserve", Map.of("webhook.matchConditions.enabled", true)));
        String expression = webhook(m).path("matchConditions").get(0).path("expression").asText();
        assertThat(expression).contains("oldObject.metadata.labels['app'] == 'redis'")
                .contains("oldObject.metadata.labels['tier'] in ['data', 'cache']")
                .contains(") && (");
        String selector = expression.substring(expression.indexOf("oldObject.metadata.annotations) || (") + 36);
        assertThat(selector).as("allOf: the requirements joined with &&").doesNotContain(" || ").endsWith("]))");
    }

    @Test
    void withoutRequirementsAnyOfSelectsNothingAndAllOfEverything() {
        Map<String, Object> empty = new LinkedHashMap<>(Map.of("webhook.matchConditions.enabled", true,
                "config.labelSelector.matchExpressions", "null"));
        String anyOf = webhook(render(empty)).path("matchConditions").get(0).path("expression").asText();
        assertThat(anyOf).endsWith("|| (false)");
        empty.put("config.selectorMode", "allOf");
        String allOf = webhook(render(empty)).path("matchConditions").get(0).path("expression").asText();
        assertThat(allOf).endsWith("|| (true)");
    }

    @Test
    void extraConditionsAreAddedAlsoWithoutTheDerivedOne() {
        Map<String, Object> set = Map.of("webhook.matchConditions.extra[0].name", "not-kube-system",
                "webhook.matchConditions.extra[0].expression", "request.namespace != 'kube-system'");
        JsonNode conditions = webhook(render(set)).path("matchConditions");
        assertThat(conditions.findValuesAsText("name")).containsExactly("not-kube-system");
        Map<String, Object> both = new LinkedHashMap<>(set);
        both.put("webhook.matchConditions.enabled", true);
        assertThat(webhook(render(both)).path("matchConditions").findValuesAsText("name"))
                .containsExactly("capo-may-park", "not-kube-system");
        assertThatThrownBy(() -> render(Map.of("webhook.matchConditions.extra[0].name", "no-expression")))
                .hasMessageContaining(ChartSchemaTest.SCHEMA_ERROR);
    }

    // ---------------------------------------------------------------- flowControl

    @Test
    void flowControlIsOffByDefault() {
        Manifests m = render(Map.of());
        assertThat(m.ofKind("FlowSchema")).isEmpty();
        assertThat(m.ofKind("PriorityLevelConfiguration")).isEmpty();
    }

    @Test
    void flowControlPutsCaposServiceAccountAtItsOwnPriorityLevel() {
        Manifests m = Manifests.of(ChartRenderer.render(ChartRenderer.projectRoot().resolve(HelmChartTest.ALL_OPTIONS),
                "capo", "ip-reserve", Map.of("flowControl.enabled", true, "flowControl.nominalConcurrencyShares", 40,
                        "flowControl.queuing.queueLengthLimit", 100)));
        JsonNode level = m.only("PriorityLevelConfiguration");
        assertThat(level.path("apiVersion").asText()).isEqualTo("flowcontrol.apiserver.k8s.io/v1");
        assertThat(level.path("metadata").path("name").asText()).isEqualTo("capo-all");
        JsonNode limited = level.path("spec").path("limited");
        assertThat(level.path("spec").path("type").asText()).isEqualTo("Limited");
        assertThat(limited.path("nominalConcurrencyShares").asInt()).isEqualTo(40);
        assertThat(limited.path("lendablePercent").asInt()).isZero();
        assertThat(limited.path("limitResponse").path("type").asText()).isEqualTo("Queue");
        assertThat(limited.path("limitResponse").path("queuing").path("queueLengthLimit").asInt()).isEqualTo(100);

        JsonNode schema = m.only("FlowSchema").path("spec");
        assertThat(schema.path("priorityLevelConfiguration").path("name").asText()).isEqualTo("capo-all");
        assertThat(schema.path("matchingPrecedence").asInt()).isEqualTo(850);
        JsonNode rule = schema.path("rules").get(0);
        JsonNode subject = rule.path("subjects").get(0);
        assertThat(subject.path("kind").asText()).isEqualTo("ServiceAccount");
        assertThat(subject.path("serviceAccount").path("name").asText()).isEqualTo("capo-sa");
        assertThat(subject.path("serviceAccount").path("namespace").asText()).isEqualTo("ip-reserve");
        // the service account the Deployment runs as
        assertThat(m.only("Deployment").path("spec").path("template").path("spec").path("serviceAccountName").asText())
                .isEqualTo("capo-sa");
        JsonNode resources = rule.path("resourceRules").get(0);
        assertThat(texts(resources.path("verbs"))).containsExactly("*");
        assertThat(resources.path("clusterScope").asBoolean()).isTrue();
    }

    // ---------------------------------------------------------------- generated certificate

    @Test
    void theGeneratedCertificateIsRsaByDefaultAndEcdsaOnRequest() throws Exception {
        Map<String, Object> generated = new LinkedHashMap<>(Map.of("webhook.certManager.enabled", false,
                "webhook.generatedCert.reuseExisting", false));
        JsonNode rsa = render(generated).one("Secret", "capo-webhook-tls").path("data");
        assertThat(certificate(rsa, "tls.crt").getPublicKey()).isInstanceOf(RSAPublicKey.class);
        assertThat(pem(rsa, "tls.key")).startsWith("-----BEGIN RSA PRIVATE KEY-----");

        generated.put("webhook.generatedCert.keyAlgorithm", "ECDSA");
        Manifests m = render(generated);
        JsonNode ecdsa = m.one("Secret", "capo-webhook-tls").path("data");
        X509Certificate ca = certificate(ecdsa, "ca.crt");
        X509Certificate serving = certificate(ecdsa, "tls.crt");
        assertThat(ca.getPublicKey()).isInstanceOf(ECPublicKey.class);
        assertThat(serving.getPublicKey()).isInstanceOf(ECPublicKey.class);
        assertThat(((ECPublicKey) serving.getPublicKey()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
        assertThat(serving.getSigAlgName()).isEqualTo("SHA256withECDSA");
        serving.verify(ca.getPublicKey());
        assertThat(pem(ecdsa, "tls.key")).startsWith("-----BEGIN EC PRIVATE KEY-----");
        assertThat(webhook(m).path("clientConfig").path("caBundle").asText()).isEqualTo(ecdsa.path("ca.crt").asText());
    }

    @Test
    void certManagersKeyAlgorithmIsUnchangedByTheGeneratedCertificatesOne() {
        JsonNode certificate = render(Map.of("webhook.generatedCert.keyAlgorithm", "ECDSA"))
                .one("Certificate", "capo-serving-cert").path("spec").path("privateKey");
        assertThat(certificate.path("algorithm").asText()).isEqualTo("RSA");
    }

    static X509Certificate certificate(JsonNode data, String key) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(Base64.getDecoder().decode(data.path(key).asText())));
    }

    static String pem(JsonNode data, String key) {
        return new String(Base64.getDecoder().decode(data.path(key).asText()), StandardCharsets.US_ASCII);
    }
}
