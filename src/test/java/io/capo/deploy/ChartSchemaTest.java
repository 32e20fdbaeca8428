package io.capo.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.LintResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * helm/capo/values.schema.json: in step with values.yaml and its documentation (the README's values table), and
 * enforced by Helm itself, so that a misspelt or mistyped value fails {@code helm install}, {@code template} and
 * {@code lint} instead of being ignored.
 */
class ChartSchemaTest {

    /** What Helm prints when values do not validate against values.schema.json. */
    static final String SCHEMA_ERROR = "values don't meet the specifications of the schema";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern TABLE_ROW = Pattern.compile("(?m)^\\| ([A-Za-z0-9_.\\-]+) \\| ([a-z]+) \\|");

    static JsonNode schema;
    static JsonNode values;
    static ValuesDoc.Result doc;

    @BeforeAll
    static void read() throws IOException {
        Path chart = ChartRenderer.chartDir();
        schema = JSON.readTree(chart.resolve("values.schema.json").toFile());
        values = YAML.readTree(chart.resolve("values.yaml").toFile());
        doc = ValuesDoc.parse(Files.readString(chart.resolve("values.yaml")));
    }

    @Test
    void theSchemaIsDraft07AndClosedAtTheTop() {
        assertThat(schema.path("$schema").asText()).isEqualTo("http://json-schema.org/draft-07/schema#");
        assertThat(schema.path("type").asText()).isEqualTo("object");
        assertThat(schema.path("additionalProperties").isBoolean()).isTrue();
        assertThat(schema.path("additionalProperties").asBoolean()).isFalse();
    }

    @Test
    void everyKeyOfValuesYamlIsInTheSchema() {
        List<String> unknown = new ArrayList<>();
        keysNotInSchema(values, schema, "", unknown);
        assertThat(unknown).as("keys of values.yaml the schema neither names nor admits").isEmpty();
    }

    @Test
    void everyKeyOfTheSchemaIsInValuesYaml() {
        List<String> missing = new ArrayList<>();
        schemaKeysNotInValues(schema, values, "", missing);
        assertThat(missing).as("schema properties without a default in values.yaml").isEmpty();
    }

    /** Objects with a fixed set of keys are closed, so a typo anywhere below them fails. */
    @Test
    void everyObjectWithFixedKeysIsClosed() {
        List<String> open = new ArrayList<>();
        openObjects(schema, "", open);
        assertThat(open).as("schema objects with properties but without additionalProperties: false").isEmpty();
    }

    @Test
    void everyDocumentedValueIsInTheSchemaWithItsDescriptionAndType() {
        assertThat(doc.entries()).hasSizeGreaterThan(100);
        for (ValuesDoc.Entry entry : doc.entries()) {
            JsonNode node = at(schema, entry.path());
            assertThat(node).as("schema of documented value %s", entry.path()).isNotNull();
            assertThat(node.path("description").asText()).as("description of %s", entry.path())
                    .isEqualTo(entry.description());
            assertThat(admits(node, entry.value())).as("schema of %s admits its documented default %s (%s)",
                    entry.path(), entry.value(), entry.type()).isTrue();
        }
    }

    /** The README's table (what users read) lists exactly the schema's documented values, with the same types. */
    @Test
    void theReadmeValuesTableMatchesTheSchema() throws IOException {
        String readme = Files.readString(ChartRenderer.chartDir().resolve("README.md"));
        String table = readme.substring(readme.indexOf(ValuesDoc.BEGIN), readme.indexOf(ValuesDoc.END));
        Map<String, String> rows = new LinkedHashMap<>();
        Matcher row = TABLE_ROW.matcher(table);
        while (row.find()) {
            rows.put(row.group(1), row.group(2));
        }
        assertThat(rows.keySet()).containsExactlyElementsOf(doc.entries().stream().map(ValuesDoc.Entry::path).toList());
        for (Map.Entry<String, String> r : rows.entrySet()) {
            JsonNode node = at(schema, r.getKey());
            assertThat(node).as(r.getKey()).isNotNull();
            assertThat(admitsType(node, r.getValue())).as("schema of %s admits the README's type %s", r.getKey(),
                    r.getValue()).isTrue();
        }
    }

    @Test
    void theDefaultsPassTheSchemaInTemplateAndLint() {
        assertThat(ChartRenderer.render(null)).contains("kind: Deployment");
        LintResult lint = ChartRenderer.lint(null);
        assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
        assertThat(lint.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
        assertThat(ChartRenderer.render(ChartRenderer.projectRoot().resolve(HelmChartTest.ALL_OPTIONS)))
                .contains("kind: Deployment");
    }

    @Test
    void aMisspeltKeyFailsTheRendering() {
        assertSchemaError(Map.of("replicaCont", 2), "replicaCont");
        assertSchemaError(Map.of("config.ipReserveMaxCont", 500), "ipReserveMaxCont");
        assertSchemaError(Map.of("webhook.certManager.privateKey.algoritm", "ECDSA"), "algoritm");
        assertSchemaError(Map.of("webhook.matchConditions.enable", true), "enable");
    }

    @Test
    void aWrongTypeOrValueFailsTheRendering() {
        assertSchemaError(Map.of("replicaCount", "three"), "replicaCount");
        assertSchemaError(Map.of("config.leaderElectionEnable", "yes"), "leaderElectionEnable");
        assertSchemaError(Map.of("config.ipReserveTime", "40 minutes"), "ipReserveTime");
        assertSchemaError(Map.of("config.failureMode", "refuse"), "failureMode");
        assertSchemaError(Map.of("config.selectorMode", "oneOf"), "selectorMode");
        assertSchemaError(Map.of("config.reservationObjects", 17), "reservationObjects");
        assertSchemaError(Map.of("webhook.timeoutSeconds", 31), "timeoutSeconds");
        assertSchemaError(Map.of("webhook.generatedCert.keyAlgorithm", "DSA"), "keyAlgorithm");
        assertSchemaError(Map.of("flowControl.lendablePercent", 101), "lendablePercent");
    }

    /** Values that must keep working: what --set gives for numbers, empty strings meaning "not set", presets. */
    @Test
    void valuesOfTheDocumentedFormsPass() {
        Map<String, Object> set = new LinkedHashMap<>();
        set.put("replicaCount", 1);
        set.put("config.leaderElectionEnable", false);
        set.put("config.webhookBudget", "2500ms");
        set.put("webhook.certManager.privateKey.size", 384);
        set.put("webhook.certManager.privateKey.algorithm", "ECDSA");
        set.put("podDisruptionBudget.minAvailable", "50%");
        set.put("preStop.enabled", true);
        set.put("image.tag", "1.2.3");
        set.put("autoscaling.targetMemoryUtilizationPercentage", 70);
        assertThat(ChartRenderer.render(null, "capo", "ip-reserve", set)).contains("kind: Deployment");
    }

    @Test
    void lintStrictFailsOnAMisspeltKey(@TempDir Path dir) throws IOException {
        Path typo = dir.resolve("typo-values.yaml");
        Files.writeString(typo, "config:\n  ipReserveMaxCont: 500\n");
        LintResult lint = ChartRenderer.lint(typo);
        assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isTrue();
        assertThat(String.join("\n", lint.getMessages())).contains("ipReserveMaxCont");
    }

    private static void assertSchemaError(Map<String, ?> set, String mentioned) {
        assertThatThrownBy(() -> ChartRenderer.render(null, "capo", "ip-reserve", set)).as("--set %s", set)
                .hasMessageContaining(SCHEMA_ERROR).hasMessageContaining(mentioned);
    }

    // ---------------------------------------------------------------- walking values and schema

    private static void keysNotInSchema(JsonNode value, JsonNode node, String path, List<String> out) {
        if (!value.isObject()) {
            return;
        }
        Iterator<Map.Entry<String, JsonNode>> fields = value.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String child = join(path, field.getKey());
            JsonNode property = node.path("properties").get(field.getKey());
            if (property != null) {
                keysNotInSchema(field.getValue(), property, child, out);
            } else if (node.path("additionalProperties").isBoolean() && !node.path("additionalProperties").asBoolean()) {
                out.add(child);
            } else if (!node.has("type") || !node.path("type").toString().contains("object")) {
                out.add(child + " (its parent is not an object in the schema)");
            }
        }
    }

    private static void schemaKeysNotInValues(JsonNode node, JsonNode value, String path, List<String> out) {
        Iterator<Map.Entry<String, JsonNode>> properties = node.path("properties").fields();
        while (properties.hasNext()) {
            Map.Entry<String, JsonNode> property = properties.next();
            String child = join(path, property.getKey());
            JsonNode v = value == null ? null : value.get(property.getKey());
            if (v == null) {
                out.add(child);
            } else {
                schemaKeysNotInValues(property.getValue(), v, child, out);
            }
        }
    }

    private static void openObjects(JsonNode node, String path, List<String> out) {
        if (node.has("properties")) {
            if (!(node.path("additionalProperties").isBoolean() && !node.path("additionalProperties").asBoolean())) {
                out.add(path.isEmpty() ? "(root)" : path);
            }
            node.path("properties").fields().forEachRemaining(p -> openObjects(p.getValue(), join(path, p.getKey()), out));
        }
        if (node.has("items")) {
            openObjects(node.path("items"), path + "[]", out);
        }
        for (String combinator : List.of("anyOf", "oneOf", "allOf")) {
            node.path(combinator).forEach(branch -> openObjects(branch, path, out));
        }
    }

    private static JsonNode at(JsonNode node, String path) {
        for (String part : path.split("\\.")) {
            node = node.path("properties").get(part);
            if (node == null) {
                return null;
            }
        }
        return node;
    }

    /** Whether a schema node admits a value, as far as type and enum go (helm checks the rest, see above). */
    private static boolean admits(JsonNode node, JsonNode value) {
        if (node.has("enum")) {
            for (JsonNode allowed : node.path("enum")) {
                if (allowed.equals(value)) {
                    return true;
                }
            }
            return false;
        }
        if (node.has("anyOf")) {
            for (JsonNode branch : node.path("anyOf")) {
                if (admits(branch, value)) {
                    return true;
                }
            }
            return false;
        }
        return admitsType(node, new ValuesDoc.Entry("", "", value).type());
    }

    private static boolean admitsType(JsonNode node, String docType) {
        if (node.has("anyOf")) {
            for (JsonNode branch : node.path("anyOf")) {
                if (admitsType(branch, docType)) {
                    return true;
                }
            }
            return false;
        }
        if (node.has("enum")) {
            for (JsonNode allowed : node.path("enum")) {
                if (new ValuesDoc.Entry("", "", allowed).type().equals(docType)) {
                    return true;
                }
            }
            return false;
        }
        List<String> types = new ArrayList<>();
        if (node.path("type").isArray()) {
            node.path("type").forEach(t -> types.add(t.asText()));
        } else {
            types.add(node.path("type").asText());
        }
        return switch (docType) {
            case "int" -> types.contains("integer") || types.contains("number");
            case "float" -> types.contains("number");
            case "bool" -> types.contains("boolean");
            case "list" -> types.contains("array");
            case "null" -> types.contains("null");
            default -> types.contains(docType);
        };
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }
}
