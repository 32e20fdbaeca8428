package io.capo.webhook;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The parts of an {@code admission.k8s.io/v1} AdmissionReview request Capo looks at.
 *
 * @param oldObject the pod being deleted, when the API server sent it (null for evictions)
 */
public record AdmissionRequest(String apiVersion, String uid, String operation, String resource, String subResource,
                               String namespace, String name, boolean dryRun, String userName, JsonNode oldObject) {

    public boolean isPodDelete() {
        return "DELETE".equals(operation) && "pods".equals(resource) && subResource.isEmpty();
    }

    public boolean isPodEviction() {
        return "CREATE".equals(operation) && "pods".equals(resource) && "eviction".equals(subResource);
    }

    /** Label for metrics: {@code delete}, {@code eviction} or {@code other}. */
    public String operationLabel() {
        return isPodDelete() ? "delete" : isPodEviction() ? "eviction" : "other";
    }

    public String podKey() {
        return namespace + "/" + name;
    }
}
