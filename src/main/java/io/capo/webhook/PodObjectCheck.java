package io.capo.webhook;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Map;

/**
 * Checks the fields of a pod in an AdmissionReview ({@code oldObject}) that Capo reads, so that a malformed pod is
 * refused with HTTP 400 naming the field instead of failing half-way through reading it.
 */
final class PodObjectCheck {

    private PodObjectCheck() {
    }

    static void check(JsonNode pod, String path) {
        JsonNode metadata = JsonFields.object(pod, "metadata", path + ".metadata", true);
        JsonFields.string(metadata, "name", path + ".metadata.name", true);
        JsonFields.string(metadata, "namespace", path + ".metadata.namespace", true);
        JsonFields.string(metadata, "uid", path + ".metadata.uid", true);
        stringMap(metadata, "labels", path + ".metadata.labels");
        stringMap(metadata, "annotations", path + ".metadata.annotations");
        timestamp(metadata, "deletionTimestamp", path + ".metadata.deletionTimestamp");
        JsonNode spec = JsonFields.object(pod, "spec", path + ".spec", false);
        if (spec != null) {
            JsonFields.string(spec, "nodeName", path + ".spec.nodeName", false);
            JsonFields.bool(spec, "hostNetwork", path + ".spec.hostNetwork");
        }
        JsonNode status = JsonFields.object(pod, "status", path + ".status", false);
        if (status == null) {
            return;
        }
        JsonFields.string(status, "podIP", path + ".status.podIP", false);
        JsonFields.string(status, "phase", path + ".status.phase", false);
        JsonFields.string(status, "reason", path + ".status.reason", false);
        JsonNode ips = JsonFields.array(status, "podIPs", path + ".status.podIPs");
        for (int i = 0; ips != null && i < ips.size(); i++) {
            String at = path + ".status.podIPs[" + i + "]";
            if (!ips.get(i).isObject()) {
                throw JsonFields.expected(at, "an object");
            }
            JsonFields.string(ips.get(i), "ip", at + ".ip", false);
        }
        JsonNode containers = JsonFields.array(status, "containerStatuses", path + ".status.containerStatuses");
        for (int i = 0; containers != null && i < containers.size(); i++) {
            String at = path + ".status.containerStatuses[" + i + "]";
            if (!containers.get(i).isObject()) {
                throw JsonFields.expected(at, "an object");
            }
            JsonNode state = JsonFields.object(containers.get(i), "state", at + ".state", false);
            JsonNode terminated = state == null ? null
                    : JsonFields.object(state, "terminated", at + ".state.terminated", false);
            if (terminated != null) {
                timestamp(terminated, "finishedAt", at + ".state.terminated.finishedAt");
            }
        }
    }

    private static void stringMap(JsonNode parent, String field, String path) {
        JsonNode map = JsonFields.object(parent, field, path, false);
        if (map == null) {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            if (!entry.getValue().isTextual()) {
                throw JsonFields.expected(path + "." + entry.getKey(), "a string");
            }
        }
    }

    private static void timestamp(JsonNode parent, String field, String path) {
        JsonNode value = parent.get(field);
        if (value == null || value.isNull()) {
            return;
        }
        if (!value.isTextual()) {
            throw JsonFields.expected(path, "a string");
        }
        try {
            Instant.parse(value.asText());
        } catch (DateTimeParseException e) {
            throw new BadAdmissionRequestException(path + ": '" + value.asText()
                    + "' is not an RFC 3339 time such as 2026-01-02T15:04:05Z");
        }
    }
}
