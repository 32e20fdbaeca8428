package io.capo.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Reads AdmissionReview requests and writes AdmissionReview responses. */
public final class AdmissionReviews {

    /** Larger than any pod the API server accepts (its request limit is 3 MiB). */
    public static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private AdmissionReviews() {
    }

    public static AdmissionRequest parse(String body) {
        if (body == null || body.isBlank()) {
            throw new BadAdmissionRequestException("empty body: expected an admission.k8s.io/v1 AdmissionReview");
        }
        if (body.length() > MAX_BODY_BYTES) {
            throw new BadAdmissionRequestException("body of " + body.length() + " bytes exceeds " + MAX_BODY_BYTES);
        }
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new BadAdmissionRequestException("body is not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new BadAdmissionRequestException("body is not a JSON object");
        }
        if (!"AdmissionReview".equals(root.path("kind").asText())) {
            throw new BadAdmissionRequestException("kind is '" + root.path("kind").asText() + "', expected AdmissionReview");
        }
        String apiVersion = root.path("apiVersion").asText();
        if (!apiVersion.startsWith("admission.k8s.io/")) {
            throw new BadAdmissionRequestException("apiVersion '" + apiVersion + "' is not admission.k8s.io/v1");
        }
        JsonNode request = root.path("request");
        if (!request.isObject()) {
            throw new BadAdmissionRequestException("request is missing");
        }
        String uid = required(request, "uid");
        String operation = required(request, "operation");
        JsonNode oldObject = request.path("oldObject");
        return new AdmissionRequest(apiVersion, uid, operation, request.path("resource").path("resource").asText(),
                request.path("subResource").asText(""), request.path("namespace").asText(""),
                request.path("name").asText(""), request.path("dryRun").asBoolean(false),
                request.path("userInfo").path("username").asText(""), oldObject.isObject() ? oldObject : null);
    }

    public static String allow(AdmissionRequest request, String warning) {
        ObjectNode root = review(request, true);
        if (warning != null) {
            ((ObjectNode) root.get("response")).putArray("warnings").add(warning);
        }
        return write(root);
    }

    /**
     * @param code HTTP status the API server passes on to the caller; 429 makes {@code kubectl drain} and
     *             controllers retry
     */
    public static String deny(AdmissionRequest request, int code, String message) {
        ObjectNode root = review(request, false);
        ObjectNode status = ((ObjectNode) root.get("response")).putObject("status");
        status.put("code", code);
        status.put("reason", code == 429 ? "TooManyRequests" : "Forbidden");
        status.put("message", message);
        return write(root);
    }

    private static ObjectNode review(AdmissionRequest request, boolean allowed) {
        ObjectNode root = JSON.createObjectNode();
        root.put("apiVersion", request.apiVersion());
        root.put("kind", "AdmissionReview");
        ObjectNode response = root.putObject("response");
        response.put("uid", request.uid());
        response.put("allowed", allowed);
        return root;
    }

    private static String write(ObjectNode root) {
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String required(JsonNode node, String field) {
        String value = node.path(field).asText("");
        if (value.isEmpty()) {
            throw new BadAdmissionRequestException("request." + field + " is missing");
        }
        return value;
    }
}
