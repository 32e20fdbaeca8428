package io.capo.config;

import io.capo.reservation.GoDuration;
import io.capo.reservation.SelectorRequirement;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads Go Capo's {@code capo_config.yaml} (which stays valid as it is) into {@link CapoSettings}.
 *
 * <p>Unknown keys are reported as warnings, not errors, because Go Capo files may carry other controller-runtime
 * keys. Missing keys take the defaults of {@link CapoSettings#defaults()}; when {@code labelSelector} is present,
 * its {@code matchLabels} and {@code matchExpressions} are taken as given (a missing one is empty) instead.
 *
 * <p>Overrides are keyed by the dotted YAML path ({@code ipReserveTime}, {@code leaderElection.resourceNamespace},
 * {@code webhook.port}, ...), win over the file and are validated the same way. {@code labelSelector.matchLabels}
 * takes {@code key=value,key2=value2}. {@code labelSelector.matchExpressions}, {@code apiVersion} and {@code kind}
 * cannot be overridden; an unknown override key is an error, since it is most likely a typo.
 */
public final class CapoConfigLoader {

    public static final String API_VERSION = "config.capo.io/v1";
    public static final String KIND = "CapoConfig";

    private static final String DEFAULT_SOURCE = "capo_config.yaml";
    private static final String OVERRIDES = "overrides";
    private static final String MATCH_LABELS = "labelSelector.matchLabels";
    private static final String MATCH_EXPRESSIONS = "labelSelector.matchExpressions";

    private static final Set<String> SECTIONS = Set.of("health", "metrics", "webhook", "leaderElection",
            "labelSelector");
    private static final Set<String> OVERRIDABLE = Set.of(
            "health.healthProbeBindAddress", "metrics.bindAddress", "webhook.port", "webhook.certDir",
            "webhook.timeoutSeconds",
            "leaderElection.leaderElect", "leaderElection.resourceName", "leaderElection.resourceNamespace",
            "leaderElection.leaseDuration", "leaderElection.renewDeadline", "leaderElection.retryPeriod",
            "ipReserveMaxCount", "ipReserveTime", "ipReleasePeriod", MATCH_LABELS, "selectorMode", "namespaceLabel",
            "failureMode", "webhookBudget", "staleGrace", "calicoApiVersion", "reservationObjects",
            "reservationObjectName");
    private static final Set<String> KNOWN_PATHS = known();
    /** The keys that hold a setting: every known path except sections, apiVersion and kind. */
    private static final Set<String> SETTINGS_KEYS = settingsKeys();
    /** The webhook's timeoutSeconds when the config does not say (the chart passes its value). */
    static final int DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 10;
    /** Left of the webhook's timeout for the API server's own work around the call. */
    static final Duration WEBHOOK_MARGIN = Duration.ofSeconds(2);
    private static final Set<String> EXPRESSION_KEYS = Set.of("key", "operator", "values");
    private static final Set<String> WILDCARD_HOSTS = Set.of("", "0.0.0.0", "::", "[::]");

    private final ObjectMapper mapper = new ObjectMapper(
            YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

    public LoadedConfig parse(String yaml, Map<String, String> overrides) {
        return parse(yaml, overrides, DEFAULT_SOURCE);
    }

    /**
     * Loads a config file. Unlike {@link #parse}, a file without a single key (empty, blank, only comments, an empty
     * or {@code null} document, {@code {}}) is refused: it is what a truncated write or an empty ConfigMap key
     * leaves, and running on the defaults it would mean could release parked addresses early.
     */
    public LoadedConfig load(Path file, Map<String, String> overrides) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot be read: " + e, null, e, ConfigException.UNREADABLE);
        }
        return parse(text, overrides, file.getFileName().toString(), file.toString());
    }

    private LoadedConfig parse(String yaml, Map<String, String> overrides, String source) {
        return parse(yaml, overrides, source, null);
    }

    /** @param requiredFile when not null, the file's path: a file without any key is refused */
    private LoadedConfig parse(String yaml, Map<String, String> overrides, String source, String requiredFile) {
        String text = yaml == null ? "" : yaml;
        // blank first: a tab alone is not even valid YAML
        JsonNode root = requiredFile != null && text.isBlank() ? mapper.createObjectNode() : readTree(text, source);
        if (requiredFile != null && root.isEmpty()) {
            throw new ConfigException(requiredFile + ": has no settings (empty, only comments, or an empty "
                    + "document); refused instead of running on the defaults. A file meant to hold the defaults "
                    + "names at least apiVersion and kind", null, null, ConfigException.EMPTY);
        }
        Map<String, String> given = new LinkedHashMap<>();
        if (overrides != null) {
            overrides.forEach((key, value) -> {
                if (value != null) {
                    given.put(key, value);
                }
            });
        }
        checkOverrideKeys(given);
        return new Reader(root, given, source).read();
    }

    private JsonNode readTree(String yaml, String source) {
        JsonNode root;
        try {
            root = mapper.readTree(yaml);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new ConfigException(source + ": not valid YAML" + where + ": " + e.getOriginalMessage(), e);
        }
        // "---" alone reads as an empty scalar
        if (root == null || root.isMissingNode() || root.isNull() || root.isTextual() && root.asText().isBlank()) {
            return mapper.createObjectNode();
        }
        if (!root.isObject()) {
            throw new ConfigException(source + ": expected a mapping at the top level, got " + kind(root));
        }
        return root;
    }

    private static void checkOverrideKeys(Map<String, String> overrides) {
        for (String key : overrides.keySet()) {
            if (MATCH_EXPRESSIONS.equals(key)) {
                throw new ConfigException(OVERRIDES + ": " + MATCH_EXPRESSIONS
                        + " cannot be overridden, set it in the config file", key, null);
            }
            if (key == null || !OVERRIDABLE.contains(key)) {
                throw new ConfigException(OVERRIDES + ": unknown key \"" + key + "\" (known: "
                        + String.join(", ", new TreeSet<>(OVERRIDABLE)) + ")", key, null);
            }
        }
    }

    /**
     * The default budget: the webhook's timeout less a margin, at least 1s. A deletion is refused only when the
     * write truly cannot land before the API server would give up on the call itself.
     */
    public static Duration budgetFor(int timeoutSeconds) {
        Duration budget = Duration.ofSeconds(timeoutSeconds).minus(WEBHOOK_MARGIN);
        return budget.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : budget;
    }

    private static Set<String> known() {
        Set<String> paths = new TreeSet<>(OVERRIDABLE);
        paths.addAll(SECTIONS);
        paths.add("apiVersion");
        paths.add("kind");
        paths.add(MATCH_EXPRESSIONS);
        return Set.copyOf(paths);
    }

    private static Set<String> settingsKeys() {
        Set<String> keys = new TreeSet<>(KNOWN_PATHS);
        keys.removeAll(SECTIONS);
        keys.remove("apiVersion");
        keys.remove("kind");
        return Set.copyOf(keys);
    }

    private static String kind(JsonNode node) {
        if (node.isObject()) {
            return "a mapping";
        }
        return node.isArray() ? "a list" : "\"" + node.asText() + "\"";
    }

    /** One parse: the tree, the overrides, and the warnings gathered on the way. */
    private static final class Reader {

        private final JsonNode root;
        private final Map<String, String> overrides;
        private final String source;
        private final List<String> warnings = new ArrayList<>();

        Reader(JsonNode root, Map<String, String> overrides, String source) {
            this.root = root;
            this.overrides = overrides;
            this.source = source;
        }

        LoadedConfig read() {
            checkShape(root, "");
            checkFixed("apiVersion", API_VERSION);
            checkFixed("kind", KIND);
            CapoSettings d = CapoSettings.defaults();
            LeaderElection dl = d.leaderElection();

            JsonNode selector = root.get("labelSelector");
            boolean selectorGiven = selector != null && !selector.isNull();
            List<SelectorRequirement> expressions = selectorGiven ? expressions(selector.get("matchExpressions"))
                    : d.matchExpressions();
            Map<String, String> labels = matchLabels(selectorGiven ? Map.of() : d.matchLabels());

            int managementPort = port("metrics.bindAddress", d.managementPort());
            int healthProbePort = port("health.healthProbeBindAddress", managementPort);
            boolean leaderElect = bool("leaderElection.leaderElect", dl.leaderElect());
            String resourceName = text("leaderElection.resourceName", dl.resourceName());
            String resourceNamespace = text("leaderElection.resourceNamespace", dl.resourceNamespace());
            Duration leaseDuration = duration("leaderElection.leaseDuration", dl.leaseDuration());
            Duration renewDeadline = duration("leaderElection.renewDeadline", dl.renewDeadline());
            Duration retryPeriod = duration("leaderElection.retryPeriod", dl.retryPeriod());
            int ipReserveMaxCount = integer("ipReserveMaxCount", d.ipReserveMaxCount());
            Duration ipReserveTime = duration("ipReserveTime", d.ipReserveTime());
            Duration ipReleasePeriod = duration("ipReleasePeriod", d.ipReleasePeriod());
            SelectorMode selectorMode = selectorMode(d.selectorMode());
            String namespaceLabel = text("namespaceLabel", d.namespaceLabel());
            FailureMode failureMode = failureMode(d.failureMode());
            int timeoutSeconds = integer("webhook.timeoutSeconds", DEFAULT_WEBHOOK_TIMEOUT_SECONDS);
            if (timeoutSeconds < 1 || timeoutSeconds > 30) {
                throw fileError("webhook.timeoutSeconds", "must be between 1 and 30 (the API server's limit), got "
                        + timeoutSeconds);
            }
            Duration webhookBudget = duration("webhookBudget", budgetFor(timeoutSeconds));
            Duration staleGrace = duration("staleGrace", d.staleGrace());
            String calicoApiVersion = text("calicoApiVersion", d.calicoApiVersion());
            int reservationObjects = integer("reservationObjects", d.reservationObjects());
            String reservationObjectName = text("reservationObjectName", d.reservationObjectName());
            int webhookPort = integer("webhook.port", d.webhookPort());
            String certDir = text("webhook.certDir", d.certDir());

            CapoSettings settings;
            try {
                LeaderElection election = new LeaderElection(leaderElect, resourceName, resourceNamespace,
                        leaseDuration, renewDeadline, retryPeriod);
                settings = new CapoSettings(ipReserveMaxCount, ipReserveTime, ipReleasePeriod, expressions, labels,
                        selectorMode, namespaceLabel, failureMode, webhookBudget, staleGrace, calicoApiVersion,
                        reservationObjects, reservationObjectName, election, webhookPort, certDir, managementPort,
                        healthProbePort);
            } catch (ConfigException e) {
                // the records name the field but not where its value came from
                String where = e.field().filter(overrides::containsKey).map(f -> OVERRIDES).orElse(source);
                throw new ConfigException(where + ": " + e.getMessage(), e.field().orElse(null), e);
            }
            if (settings.healthProbePort() != settings.managementPort()) {
                warnings.add(source + ": health.healthProbeBindAddress: Capo serves health on the management port "
                        + settings.managementPort() + " (metrics.bindAddress), not on " + settings.healthProbePort()
                        + "; point the probes there");
            }
            if (settings.selectorMode() == SelectorMode.ANY_OF && settings.matchLabels().isEmpty()
                    && settings.matchExpressions().isEmpty()) {
                warnings.add(source + ": labelSelector: empty with selectorMode anyOf, so no pod is selected");
            }
            return new LoadedConfig(settings, warnings, keysIn(root, true), keysIn(root, false));
        }

        /** The settings keys the file names ({@code withValue}: and gives a value other than null). */
        private static Set<String> keysIn(JsonNode root, boolean withValue) {
            Set<String> keys = new TreeSet<>();
            for (String path : SETTINGS_KEYS) {
                JsonNode node = root;
                String[] parts = path.split("\\.");
                for (int i = 0; node != null && i < parts.length; i++) {
                    node = node.isObject() ? node.get(parts[i]) : null;
                }
                if (node != null && !(withValue && node.isNull())) {
                    keys.add(path);
                }
            }
            return keys;
        }

        /** Warns about unknown keys and insists that sections are mappings. */
        private void checkShape(JsonNode node, String prefix) {
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                String path = prefix + field.getKey();
                JsonNode value = field.getValue();
                if (!KNOWN_PATHS.contains(path)) {
                    warnings.add(source + ": unknown key \"" + path + "\" ignored");
                } else if (SECTIONS.contains(path) && !value.isNull()) {
                    if (!value.isObject()) {
                        throw fileError(path, "expected a mapping, got " + kind(value));
                    }
                    checkShape(value, path + ".");
                }
            }
        }

        private void checkFixed(String path, String expected) {
            JsonNode node = root.get(path);
            if (node != null && !node.isNull() && !expected.equals(node.asText())) {
                throw fileError(path, kind(node) + " is not supported, expected " + expected);
            }
        }

        private List<SelectorRequirement> expressions(JsonNode list) {
            if (list == null || list.isNull()) {
                return List.of();
            }
            if (!list.isArray()) {
                throw fileError(MATCH_EXPRESSIONS, "expected a list, got " + kind(list));
            }
            List<SelectorRequirement> result = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                String path = MATCH_EXPRESSIONS + "[" + i + "]";
                JsonNode item = list.get(i);
                if (!item.isObject()) {
                    throw fileError(path, "expected a mapping with key, operator and values, got " + kind(item));
                }
                item.fieldNames().forEachRemaining(name -> {
                    if (!EXPRESSION_KEYS.contains(name)) {
                        warnings.add(source + ": unknown key \"" + path + "." + name + "\" ignored");
                    }
                });
                String key = scalar(item.get("key"), path + ".key");
                String operator = scalar(item.get("operator"), path + ".operator");
                List<String> values = new ArrayList<>();
                JsonNode valuesNode = item.get("values");
                if (valuesNode != null && !valuesNode.isNull()) {
                    if (!valuesNode.isArray()) {
                        throw fileError(path + ".values", "expected a list, got " + kind(valuesNode));
                    }
                    for (int j = 0; j < valuesNode.size(); j++) {
                        values.add(scalar(valuesNode.get(j), path + ".values[" + j + "]"));
                    }
                }
                try {
                    result.add(new SelectorRequirement(key, operator, values));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(source + ": " + path + "." + e.getMessage(), MATCH_EXPRESSIONS, e);
                }
            }
            return result;
        }

        private Map<String, String> matchLabels(Map<String, String> fallback) {
            String override = overrides.get(MATCH_LABELS);
            if (override != null) {
                Map<String, String> labels = new LinkedHashMap<>();
                for (String pair : override.split(",")) {
                    if (pair.isBlank()) {
                        continue;
                    }
                    int eq = pair.indexOf('=');
                    if (eq < 0) {
                        throw new ConfigException(OVERRIDES + ": " + MATCH_LABELS + ": \"" + pair.trim()
                                + "\" is not in the form key=value", MATCH_LABELS, null);
                    }
                    labels.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
                }
                return labels;
            }
            JsonNode selector = root.get("labelSelector");
            JsonNode node = selector == null ? null : selector.get("matchLabels");
            if (node == null || node.isNull()) {
                return fallback;
            }
            if (!node.isObject()) {
                throw fileError(MATCH_LABELS, "expected a mapping, got " + kind(node));
            }
            Map<String, String> labels = new LinkedHashMap<>();
            node.fields().forEachRemaining(e -> labels.put(e.getKey(),
                    e.getValue().isNull() ? "" : scalar(e.getValue(), MATCH_LABELS + "." + e.getKey())));
            return labels;
        }

        private String scalar(JsonNode node, String path) {
            if (node == null || node.isNull()) {
                throw fileError(path, "is missing");
            }
            if (node.isContainerNode()) {
                throw fileError(path, "expected a single value, got " + kind(node));
            }
            return node.asText();
        }

        /** The raw value of a leaf: the override, else the file's, else null. */
        private Raw raw(String path) {
            String override = overrides.get(path);
            if (override != null) {
                return new Raw(OVERRIDES, path, override);
            }
            JsonNode node = root;
            for (String part : path.split("\\.")) {
                node = node.get(part);
                if (node == null || node.isNull()) {
                    return null;
                }
            }
            if (node.isContainerNode()) {
                throw fileError(path, "expected a single value, got " + kind(node));
            }
            return new Raw(source, path, node.asText());
        }

        private String text(String path, String fallback) {
            Raw raw = raw(path);
            return raw == null ? fallback : raw.text().trim();
        }

        private int integer(String path, int fallback) {
            Raw raw = raw(path);
            if (raw == null) {
                return fallback;
            }
            try {
                return Integer.parseInt(raw.text().trim());
            } catch (NumberFormatException e) {
                throw raw.error("is not an integer", e);
            }
        }

        private boolean bool(String path, boolean fallback) {
            Raw raw = raw(path);
            if (raw == null) {
                return fallback;
            }
            String value = raw.text().trim();
            if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(value);
            }
            throw raw.error("is not a boolean (true or false)", null);
        }

        private Duration duration(String path, Duration fallback) {
            Raw raw = raw(path);
            if (raw == null) {
                return fallback;
            }
            try {
                return GoDuration.parse(raw.text());
            } catch (IllegalArgumentException e) {
                throw raw.error("is not a duration (e.g. 40m, 5s)", e);
            }
        }

        private SelectorMode selectorMode(SelectorMode fallback) {
            Raw raw = raw("selectorMode");
            if (raw == null) {
                return fallback;
            }
            try {
                return SelectorMode.fromYaml(raw.text());
            } catch (IllegalArgumentException e) {
                throw raw.error("is not a selector mode (anyOf or allOf)", e);
            }
        }

        private FailureMode failureMode(FailureMode fallback) {
            Raw raw = raw("failureMode");
            if (raw == null) {
                return fallback;
            }
            try {
                return FailureMode.fromYaml(raw.text());
            } catch (IllegalArgumentException e) {
                throw raw.error("is not a failure mode (deny or allow)", e);
            }
        }

        /** {@code :8080}, {@code 0.0.0.0:8080} or {@code [::]:8080}; only the port is used. */
        private int port(String path, int fallbackPort) {
            Raw raw = raw(path);
            if (raw == null) {
                return fallbackPort;
            }
            String value = raw.text().trim();
            int colon = value.lastIndexOf(':');
            if (colon < 0) {
                throw raw.error("is not an address of the form :8080 or host:8080", null);
            }
            int port;
            try {
                port = Integer.parseInt(value.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw raw.error("is not an address of the form :8080 or host:8080", e);
            }
            String host = value.substring(0, colon);
            if (!WILDCARD_HOSTS.contains(host)) {
                warnings.add(raw.where() + ": " + path + ": host \"" + host + "\" is ignored, only the port is used");
            }
            return port;
        }

        private ConfigException fileError(String path, String problem) {
            return new ConfigException(source + ": " + path + ": " + problem, path, null);
        }
    }

    private record Raw(String where, String path, String text) {

        ConfigException error(String problem, Throwable cause) {
            return new ConfigException(where + ": " + path + ": \"" + text + "\" " + problem, path, cause);
        }
    }
}
