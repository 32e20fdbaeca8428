package io.capo.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decides whether a set of route files may replace the running routes. Refused, like a file that does not parse:
 * a directory without route files, a file without content (what a truncated write or an emptied ConfigMap key
 * leaves), and a set that no longer defines one of the {@link #REQUIRED} routes — without the webhook route the
 * API server gets 404 and, with {@code failurePolicy: Fail}, refuses every deletion; without the release route
 * nothing is ever released.
 */
final class RouteChangeCheck {

    static final String WEBHOOK_ROUTE = "admission-webhook";
    static final String RELEASE_ROUTE = "release";
    static final String WEBHOOK_FROM = "platform-http:" + RouteProbes.WEBHOOK_PATH;
    static final List<String> REQUIRED = List.of(WEBHOOK_ROUTE, "kubernetes-pod-events", "kubernetes-node-deleted",
            RELEASE_ROUTE);

    /** Reasons, as counted in {@code capo_routes_reload_refused_total{reason}}. */
    static final String EMPTY = "empty";
    static final String REQUIRED_ROUTE_MISSING = "required-route-missing";
    static final String INVALID = "invalid";
    static final String START_FAILED = "start-failed";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    record Refusal(String reason, String message) {
    }

    private RouteChangeCheck() {
    }

    /** Before parsing: the files (location to content) must not be none, and none of them may be empty. */
    static Optional<Refusal> content(String directory, Map<String, String> files) {
        if (files.isEmpty()) {
            return Optional.of(new Refusal(EMPTY, directory + ": no route files (*.yaml, *.yml) left"));
        }
        List<String> empty = files.entrySet().stream().filter(f -> contentless(f.getValue()))
                .map(Map.Entry::getKey).toList();
        if (!empty.isEmpty()) {
            return Optional.of(new Refusal(EMPTY, String.join(", ", empty) + ": no content (empty, only comments "
                    + "or an empty document); remove a file instead of emptying it"));
        }
        return Optional.empty();
    }

    /**
     * After parsing: the routes the new files define (id to {@code from} URI) must include every required one, and
     * the webhook route must still listen on {@code platform-http:/pod-ip-reservation}.
     */
    static Optional<Refusal> required(Map<String, String> fromById) {
        List<String> missing = REQUIRED.stream().filter(id -> !fromById.containsKey(id)).toList();
        if (!missing.isEmpty()) {
            return Optional.of(new Refusal(REQUIRED_ROUTE_MISSING, "the required route"
                    + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing)
                    + (missing.size() > 1 ? " are" : " is") + " no longer defined (Capo needs "
                    + String.join(", ", REQUIRED) + ")"));
        }
        String webhookFrom = fromById.get(WEBHOOK_ROUTE);
        if (webhookFrom == null || !(webhookFrom.equals(WEBHOOK_FROM) || webhookFrom.startsWith(WEBHOOK_FROM + "?"))) {
            return Optional.of(new Refusal(REQUIRED_ROUTE_MISSING, "route " + WEBHOOK_ROUTE + " no longer listens on "
                    + WEBHOOK_FROM + " (from: " + webhookFrom + "), the path the API server calls"));
        }
        return Optional.empty();
    }

    /** True when no YAML document of the text holds anything: blank, comments only, {@code ---}, null, [] or {}. */
    static boolean contentless(String yaml) {
        if (yaml == null || yaml.isBlank()) {
            return true;
        }
        try (MappingIterator<JsonNode> documents = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (documents.hasNextValue()) {
                JsonNode document = documents.nextValue();
                if (document != null && !document.isNull() && !document.isMissingNode()
                        && !(document.isContainerNode() && document.isEmpty())
                        && !(document.isTextual() && document.asText().isBlank())) {
                    return false;
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            // not YAML: the parser of the routes reports it with its own words
            return false;
        }
    }
}
