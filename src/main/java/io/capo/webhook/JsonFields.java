package io.capo.webhook;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Typed reads of JSON fields that refuse a value of the wrong type with {@link BadAdmissionRequestException} naming
 * the field's path. An absent field and JSON {@code null} are the same, as for the API server.
 */
final class JsonFields {

    private JsonFields() {
    }

    /** The field's text; "" when absent and not required. */
    static String string(JsonNode parent, String field, String path, boolean required) {
        JsonNode value = present(parent, field, path, required);
        if (value == null) {
            return "";
        }
        if (!value.isTextual()) {
            throw expected(path, "a string");
        }
        if (required && value.asText().isEmpty()) {
            throw new BadAdmissionRequestException(path + " is missing");
        }
        return value.asText();
    }

    /** The field when it is an object; null when absent and not required. */
    static JsonNode object(JsonNode parent, String field, String path, boolean required) {
        JsonNode value = present(parent, field, path, required);
        if (value != null && !value.isObject()) {
            throw expected(path, "an object");
        }
        return value;
    }

    /** The field when it is an array; null when absent. */
    static JsonNode array(JsonNode parent, String field, String path) {
        JsonNode value = present(parent, field, path, false);
        if (value != null && !value.isArray()) {
            throw expected(path, "an array");
        }
        return value;
    }

    /** The field's value; false when absent. */
    static boolean bool(JsonNode parent, String field, String path) {
        JsonNode value = present(parent, field, path, false);
        if (value != null && !value.isBoolean()) {
            throw expected(path, "true or false");
        }
        return value != null && value.booleanValue();
    }

    static BadAdmissionRequestException expected(String path, String what) {
        return new BadAdmissionRequestException(path + ": expected " + what);
    }

    private static JsonNode present(JsonNode parent, String field, String path, boolean required) {
        JsonNode value = parent.get(field);
        if (value == null || value.isNull()) {
            if (required) {
                throw new BadAdmissionRequestException(path + " is missing");
            }
            return null;
        }
        return value;
    }
}
