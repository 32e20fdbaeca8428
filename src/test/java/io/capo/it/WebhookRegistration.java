package io.capo.it;

import io.fabric8.kubernetes.api.model.admissionregistration.v1.RuleWithOperations;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.RuleWithOperationsBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * The ValidatingWebhookConfiguration exactly as the Helm chart declares it (DELETE of pods, CREATE of
 * pods/eviction, namespaceSelector on the opt-in label, sideEffects NoneOnDryRun, failurePolicy Fail, 10s), but with
 * a {@code url:} client config pointing at a Capo replica in this JVM and the test CA as caBundle.
 */
public final class WebhookRegistration {

    public static final String PATH = "/pod-ip-reservation";
    public static final String NAME_PREFIX = "capo-it-";

    private WebhookRegistration() {
    }

    public static ValidatingWebhookConfiguration build(String name, int port, String caPem) {
        return build(name, "https://127.0.0.1:" + port + PATH, caPem, "Fail", 10);
    }

    public static ValidatingWebhookConfiguration build(String name, String url, String caPem, String failurePolicy,
                                                       int timeoutSeconds) {
        RuleWithOperations delete = new RuleWithOperationsBuilder().withOperations("DELETE").withApiGroups("")
                .withApiVersions("v1").withResources("pods").withScope("*").build();
        RuleWithOperations evict = new RuleWithOperationsBuilder().withOperations("CREATE").withApiGroups("")
                .withApiVersions("v1").withResources("pods/eviction").withScope("*").build();
        return new ValidatingWebhookConfigurationBuilder()
                .withNewMetadata().withName(name).addToLabels("app.kubernetes.io/name", "capo").endMetadata()
                .addNewWebhook()
                .withName("pod-ip-reservation.capo.io")
                .withNewClientConfig()
                .withUrl(url)
                .withCaBundle(Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.US_ASCII)))
                .endClientConfig()
                .withRules(delete, evict)
                .withNewNamespaceSelector().withMatchLabels(Map.of("ip-reserve", "enabled")).endNamespaceSelector()
                .withSideEffects("NoneOnDryRun")
                .withAdmissionReviewVersions("v1")
                .withFailurePolicy(failurePolicy)
                .withTimeoutSeconds(timeoutSeconds)
                .endWebhook()
                .build();
    }

    /** Creates (or replaces) the registration. */
    public static ValidatingWebhookConfiguration register(KubernetesClient client, String name, int port,
                                                          String caPem) {
        return client.admissionRegistration().v1().validatingWebhookConfigurations()
                .resource(build(name, port, caPem)).serverSideApply();
    }

    public static ValidatingWebhookConfiguration register(KubernetesClient client, String name, String url,
                                                          String caPem) {
        return client.admissionRegistration().v1().validatingWebhookConfigurations()
                .resource(build(name, url, caPem, "Fail", 10)).serverSideApply();
    }

    public static void unregister(KubernetesClient client, String name) {
        client.admissionRegistration().v1().validatingWebhookConfigurations().withName(name).withGracePeriod(0)
                .delete();
    }

    /** Removes every registration left by IT classes (the API server would call a Capo that is gone). */
    public static void unregisterAll(KubernetesClient client) {
        client.admissionRegistration().v1().validatingWebhookConfigurations().list().getItems().stream()
                .filter(w -> w.getMetadata().getName().startsWith(NAME_PREFIX))
                .forEach(w -> unregister(client, w.getMetadata().getName()));
    }
}
