package io.capo.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The helm-docs convention of values.yaml: a key is documented by a {@code # --} comment right above it (it may go
 * on over further comment lines); a key without one must be a section whose keys are documented.
 */
final class ValuesDoc {

    static final String BEGIN = "<!-- values:begin (generated from values.yaml by scripts/render-install-yaml.sh) -->";
    static final String END = "<!-- values:end -->";

    private static final Pattern KEY = Pattern.compile("^( *)([A-Za-z0-9_.\\-]+):(?: .*)?$");
    private static final Pattern COMMENT = Pattern.compile("^ *#(.*)$");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    record Entry(String path, String description, JsonNode value) {

        String type() {
            if (value == null || value.isNull()) {
                return "null";
            }
            if (value.isObject()) {
                return "object";
            }
            if (value.isArray()) {
                return "list";
            }
            if (value.isBoolean()) {
                return "bool";
            }
            if (value.isIntegralNumber()) {
                return "int";
            }
            return value.isNumber() ? "float" : "string";
        }
    }

    record Result(List<Entry> entries, List<String> undocumented) {
    }

    private record Open(int indent, String path, boolean documented) {
    }

    static Result parse(String valuesYaml) {
        JsonNode tree;
        try {
            tree = YAML.readTree(valuesYaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Entry> entries = new ArrayList<>();
        List<String> sections = new ArrayList<>();
        Deque<Open> open = new ArrayDeque<>();
        StringBuilder doc = null;
        for (String line : valuesYaml.split("\n", -1)) {
            if (line.isBlank()) {
                doc = null;
                continue;
            }
            Matcher comment = COMMENT.matcher(line);
            if (comment.matches()) {
                String text = comment.group(1);
                if (text.startsWith(" --")) {
                    doc = new StringBuilder(text.substring(3).trim());
                } else if (doc != null) {
                    doc.append(' ').append(text.trim());
                }
                continue;
            }
            Matcher key = KEY.matcher(line);
            if (!key.matches()) {
                doc = null;
                continue;
            }
            int indent = key.group(1).length();
            while (!open.isEmpty() && open.peek().indent() >= indent) {
                open.pop();
            }
            if (open.stream().anyMatch(Open::documented)) {
                doc = null;
                continue;
            }
            String path = open.isEmpty() ? key.group(2) : open.peek().path() + "." + key.group(2);
            if (doc != null) {
                entries.add(new Entry(path, doc.toString().trim(), at(tree, path)));
                open.push(new Open(indent, path, true));
            } else {
                sections.add(path);
                open.push(new Open(indent, path, false));
            }
            doc = null;
        }
        List<String> undocumented = sections.stream()
                .filter(section -> entries.stream().noneMatch(e -> e.path().startsWith(section + ".")))
                .toList();
        return new Result(entries, undocumented);
    }

    private static JsonNode at(JsonNode tree, String path) {
        JsonNode node = tree;
        for (String part : path.split("\\.")) {
            node = node == null ? null : node.get(part);
        }
        return node;
    }

    static String table(Result values) {
        StringBuilder out = new StringBuilder("| Key | Type | Default | Description |\n|-----|------|---------|-------------|\n");
        for (Entry e : values.entries()) {
            String value = e.value() == null ? "null" : e.value().toString();
            out.append("| ").append(e.path()).append(" | ").append(e.type()).append(" | `")
                    .append(value.replace("|", "\\|")).append("` | ")
                    .append(e.description().replace("|", "\\|")).append(" |\n");
        }
        return out.toString();
    }

    static String replaceTable(String readme, Result values) {
        int begin = readme.indexOf(BEGIN);
        int end = readme.indexOf(END);
        if (begin < 0 || end < begin) {
            throw new IllegalStateException("README.md lacks the markers " + BEGIN + " and " + END);
        }
        return readme.substring(0, begin + BEGIN.length()) + "\n" + table(values) + readme.substring(end);
    }
}
