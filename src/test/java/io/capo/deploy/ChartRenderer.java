package io.capo.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Renders the Capo Helm chart ({@code helm/capo}) with the Helm library embedded by helm-java, and generates the
 * files derived from it: {@code deploy/yaml/install.yaml}, {@code deploy/prometheus/rules.yaml} and the values
 * table of {@code helm/capo/README.md}.
 *
 * <p>Reusable by other tests (e.g. a server-side dry-run against a real API server):
 * {@link #render(Path)} returns the rendered multi-document YAML for a values file, {@link #documents(String)}
 * splits it into objects.
 *
 * <p>{@link #main(String[])} rewrites the derived files; {@code scripts/render-install-yaml.sh} calls it.
 */
public final class ChartRenderer {

    /** Release name of install.yaml and of the tests' renderings. */
    public static final String RELEASE_NAME = "capo";
    /** Namespace of install.yaml and of the tests' renderings (the Go Capo's namespace). */
    public static final String NAMESPACE = "ip-reserve";

    static final String INSTALL_YAML = "deploy/yaml/install.yaml";
    static final String INSTALL_VALUES = "deploy/yaml/install-values.yaml";
    public static final String PROMETHEUS_RULES = "deploy/prometheus/rules.yaml";
    static final String CHART_README = "helm/capo/README.md";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final YAMLMapper YAML_WRITER = YAMLMapper.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .build();

    private ChartRenderer() {
    }

    /** The project root: {@code -Dcapo.projectRoot}, else the nearest directory up from here holding helm/capo. */
    public static Path projectRoot() {
        String configured = System.getProperty("capo.projectRoot");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("helm/capo/Chart.yaml"))) {
                return dir;
            }
        }
        throw new IllegalStateException("helm/capo/Chart.yaml not found above " + Path.of("").toAbsolutePath());
    }

    public static Path chartDir() {
        return projectRoot().resolve("helm/capo");
    }

    /** {@code helm template capo helm/capo -n ip-reserve [-f valuesFile]}; a null file means the chart defaults. */
    public static String render(Path valuesFile) {
        return render(valuesFile, RELEASE_NAME, NAMESPACE, Map.of());
    }

    /** {@code helm template releaseName helm/capo -n namespace [-f valuesFile] [--set key=value ...]}. */
    public static String render(Path valuesFile, String releaseName, String namespace, Map<String, ?> set) {
        return render(chartDir(), valuesFile, releaseName, namespace, set);
    }

    /**
     * Renders only what {@code helm test} runs. helm-java's template leaves hooks out, so this renders a copy of the
     * chart whose test hooks are plain objects; their {@code helm.sh/hook} annotation reads {@code capo.io/helm-hook}.
     */
    public static String renderTests(Path valuesFile, String releaseName, String namespace, Map<String, ?> set) {
        Path copy = null;
        try {
            copy = Files.createTempDirectory("capo-chart-tests");
            Path chart = copy.resolve("capo");
            copyTree(chartDir(), chart);
            Path tests = chart.resolve("templates/tests");
            try (Stream<Path> files = Files.list(tests)) {
                for (Path file : files.toList()) {
                    Files.writeString(file, Files.readString(file)
                            .replace("helm.sh/hook:", "capo.io/helm-hook:")
                            .replace("helm.sh/hook-delete-policy:", "capo.io/helm-hook-delete-policy:"));
                }
            }
            String rendered = render(chart, valuesFile, releaseName, namespace, set);
            StringBuilder onlyTests = new StringBuilder();
            for (String document : rendered.split("(?m)^---$")) {
                if (document.contains("# Source: capo/templates/tests/")) {
                    onlyTests.append("---").append(document);
                }
            }
            return onlyTests.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (copy != null) {
                deleteTree(copy);
            }
        }
    }

    private static String render(Path chart, Path valuesFile, String releaseName, String namespace, Map<String, ?> set) {
        TemplateCommand command = new Helm(chart).template().withName(releaseName).withNamespace(namespace);
        if (valuesFile != null) {
            command = command.withValuesFile(valuesFile.toAbsolutePath());
        }
        for (Map.Entry<String, ?> entry : set.entrySet()) {
            command = command.set(entry.getKey(), entry.getValue());
        }
        return command.call();
    }

    /** The objects of a multi-document YAML string (empty documents left out). */
    public static List<JsonNode> documents(String multiDocumentYaml) {
        List<JsonNode> objects = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(multiDocumentYaml)) {
            while (it.hasNext()) {
                JsonNode node = it.next();
                if (node != null && node.isObject() && !node.isEmpty()) {
                    objects.add(node);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("rendered YAML does not parse", e);
        }
        return objects;
    }

    /**
     * {@code helm lint --strict}. helm-java's lint takes no values file, so with one the chart is linted from a
     * temporary copy whose values.yaml is the chart's defaults merged with the file the way Helm merges them.
     */
    public static LintResult lint(Path valuesFile) {
        if (valuesFile == null) {
            return new Helm(chartDir()).lint().strict().call();
        }
        Path copy = null;
        try {
            copy = Files.createTempDirectory("capo-chart-lint");
            Path chart = copy.resolve("capo");
            copyTree(chartDir(), chart);
            JsonNode defaults = YAML.readTree(chart.resolve("values.yaml").toFile());
            JsonNode overrides = YAML.readTree(valuesFile.toFile());
            Files.writeString(chart.resolve("values.yaml"),
                    YAML_WRITER.writeValueAsString(merge((ObjectNode) defaults, overrides)));
            return new Helm(chart).lint().strict().call();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (copy != null) {
                deleteTree(copy);
            }
        }
    }

    /** Helm's values merge: maps merge key by key, anything else replaces, null deletes. */
    static ObjectNode merge(ObjectNode base, JsonNode overrides) {
        if (overrides == null || !overrides.isObject()) {
            return base;
        }
        Iterator<Map.Entry<String, JsonNode>> fields = overrides.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode current = base.get(field.getKey());
            JsonNode value = field.getValue();
            if (value == null || value.isNull()) {
                base.remove(field.getKey());
            } else if (current != null && current.isObject() && value.isObject()) {
                merge((ObjectNode) current, value);
            } else {
                base.set(field.getKey(), value.deepCopy());
            }
        }
        return base;
    }

    /** The content of deploy/yaml/install.yaml: a Namespace plus the chart rendered with install-values.yaml. */
    public static String installYaml() {
        String rendered = render(projectRoot().resolve(INSTALL_VALUES));
        return "# Capo: everything in one file, generated from the Helm chart helm/capo with\n"
                + "# " + INSTALL_VALUES + " (release " + RELEASE_NAME + ", namespace " + NAMESPACE + ").\n"
                + "# Do not edit: run scripts/render-install-yaml.sh. Needs cert-manager and the Prometheus Operator's\n"
                + "# CRDs (or deploy/kustomize/overlays/without-prometheus-operator).\n"
                + "#   kubectl apply -f deploy/yaml/install.yaml\n"
                + "---\n"
                + "apiVersion: v1\n"
                + "kind: Namespace\n"
                + "metadata:\n"
                + "  name: " + NAMESPACE + "\n"
                + "  labels:\n"
                + "    app.kubernetes.io/part-of: capo\n"
                + "    pod-security.kubernetes.io/enforce: restricted\n"
                + "---\n"
                + crds()
                + (rendered.startsWith("---") ? "" : "---\n")
                + rendered;
    }

    /** The chart's own CRDs (helm/capo/crds, which helm install applies and helm template leaves out). */
    static String crds() {
        try (Stream<Path> files = Files.list(projectRoot().resolve("helm/capo/crds"))) {
            StringBuilder out = new StringBuilder();
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                out.append("# Source: capo/crds/").append(file.getFileName()).append('\n')
                        .append(Files.readString(file).strip()).append('\n');
            }
            return out.toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * The content of deploy/prometheus/rules.yaml: the spec of the chart's PrometheusRule, as rendered, which is a
     * plain Prometheus rule file ({@code groups:}).
     */
    public static String prometheusRulesYaml() {
        String rendered = render(projectRoot().resolve(INSTALL_VALUES));
        String rule = Stream.of(rendered.split("(?m)^---$"))
                .filter(document -> document.contains("\nkind: PrometheusRule\n")).findFirst()
                .orElseThrow(() -> new IllegalStateException(INSTALL_VALUES + " renders no PrometheusRule"));
        StringBuilder spec = new StringBuilder();
        boolean inSpec = false;
        for (String line : rule.split("\n")) {
            if (line.equals("spec:")) {
                inSpec = true;
            } else if (inSpec && !line.isBlank()) {
                if (!line.startsWith("  ")) {
                    break;
                }
                spec.append(line.substring(2)).append('\n');
            }
        }
        return "# Capo's alerts as a Prometheus rule file (rule_files), generated from the chart's PrometheusRule\n"
                + "# (helm/capo/templates/prometheusrule.yaml, release " + RELEASE_NAME + " in namespace " + NAMESPACE
                + ": job=\"capo-metrics-service\").\n"
                + "# Do not edit: run scripts/render-install-yaml.sh. Adjust job and namespace to your scrape config.\n"
                + spec;
    }

    /** The README with its values table regenerated from values.yaml. */
    public static String chartReadme() {
        try {
            Path chart = chartDir();
            String readme = Files.readString(chart.resolve("README.md"));
            return ValuesDoc.replaceTable(readme, ValuesDoc.parse(Files.readString(chart.resolve("values.yaml"))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes install.yaml, rules.yaml and the README's values table; prints what changed. */
    public static void main(String[] args) throws IOException {
        Path root = projectRoot();
        write(root.resolve(CHART_README), chartReadme());
        write(root.resolve(INSTALL_YAML), installYaml());
        write(root.resolve(PROMETHEUS_RULES), prometheusRulesYaml());
    }

    private static void write(Path file, String content) throws IOException {
        Optional<String> before = Files.exists(file) ? Optional.of(Files.readString(file)) : Optional.empty();
        if (before.filter(content::equals).isPresent()) {
            System.out.println("unchanged " + projectRoot().relativize(file));
            return;
        }
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, StandardCharsets.UTF_8);
        System.out.println("wrote     " + projectRoot().relativize(file));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path source : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target);
                }
            }
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory
        }
    }
}
