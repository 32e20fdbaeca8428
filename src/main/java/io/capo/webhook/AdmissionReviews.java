package io.capo.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Collection;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads AdmissionReview requests and writes AdmissionReview responses. Everything Capo reads is checked here, so a
 * malformed review is refused with a message naming the field, never half-read.
 */
public final class AdmissionReviews {

    /** Larger than any pod the API server accepts (its request limit is 3 MiB). */
    public static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

    static final Set<String> API_VERSIONS = Set.of("admission.k8s.io/v1", "admission.k8s.io/v1beta1");
    static final Set<String> OPERATIONS = Set.of("CREATE", "UPDATE", "DELETE", "CONNECT");

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
        String kind = JsonFields.string(root, "kind", "kind", false);
        if (!"AdmissionReview".equals(kind)) {
            throw new BadAdmissionRequestException("kind is '" + kind + "', expected AdmissionReview");
        }
        String apiVersion = JsonFields.string(root, "apiVersion", "apiVersion", false);
        if (!API_VERSIONS.contains(apiVersion)) {
            throw new BadAdmissionRequestException("apiVersion '" + apiVersion
                    + "' is not admission.k8s.io/v1 or admission.k8s.io/v1beta1");
        }
        JsonNode request = JsonFields.object(root, "request", "request", true);
        String uid = JsonFields.string(request, "uid", "request.uid", true);
        JsonFields.string(JsonFields.object(request, "kind", "request.kind", true), "kind", "request.kind.kind", true);
        String resource = JsonFields.string(JsonFields.object(request, "resource", "request.resource", true),
                "resource", "request.resource.resource", true);
        String operation = JsonFields.string(request, "operation", "request.operation", true);
        if (!OPERATIONS.contains(operation)) {
            throw new BadAdmissionRequestException("request.operation: '" + operation
                    + "' is not one of CREATE, UPDATE, DELETE, CONNECT");
        }
        JsonNode userInfo = JsonFields.object(request, "userInfo", "request.userInfo", false);
        JsonNode oldObject = JsonFields.object(request, "oldObject", "request.oldObject", false);
        AdmissionRequest parsed = new AdmissionRequest(apiVersion, uid, operation, resource,
                JsonFields.string(request, "subResource", "request.subResource", false),
                JsonFields.string(request, "namespace", "request.namespace", false),
                JsonFields.string(request, "name", "request.name", false),
                JsonFields.bool(request, "dryRun", "request.dryRun"),
                userInfo == null ? "" : JsonFields.string(userInfo, "username", "request.userInfo.username", false),
                oldObject);
        if (parsed.isPodDelete() || parsed.isPodEviction()) {
            JsonFields.string(request, "namespace", "request.namespace", true);
            JsonFields.string(request, "name", "request.name", true);
        }
        if (oldObject != null && parsed.isPodDelete()) {
            PodObjectCheck.check(oldObject, "request.oldObject");
        }
        return parsed;
    }

    /**
     * Reads the pod of a DELETE review with the given reader. The fields Capo reads were checked by {@link #parse};
     * a field of the wrong type elsewhere in the pod that the reader's object mapping refuses is the caller's fault
     * too and is named the same way.
     */
    static <T> T readPod(JsonNode oldObject, Function<JsonNode, T> reader) {
        try {
            return reader.apply(oldObject);
        } catch (IllegalArgumentException e) {
            // Jackson's convertValue wraps the mapping error
            if (e.getCause() instanceof JsonMappingException mapping) {
                throw new BadAdmissionRequestException(mappingMessage("request.oldObject", mapping));
            }
            throw e;
        }
    }

    static String mappingMessage(String root, JsonMappingException e) {
        StringBuilder path = new StringBuilder(root);
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                path.append('.').append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        if (e instanceof MismatchedInputException mismatch && mismatch.getTargetType() != null) {
            return path + ": expected " + describe(mismatch.getTargetType());
        }
        return path + ": " + e.getOriginalMessage().lines().findFirst().orElse("cannot be read");
    }

    private static String describe(Class<?> type) {
        if (type.isArray() || Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        if (type == String.class) {
            return "a string";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (Number.class.isAssignableFrom(type) || type.isPrimitive()) {
            return "a number";
        }
        return "an object";
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
}
