package io.capo.config;

import java.util.Locale;

/** How the label selector requirements combine. */
public enum SelectorMode {
    /** A pod is selected when any single requirement matches (each matchLabels pair counts as one); Go Capo's rule. */
    ANY_OF("anyOf"),
    /** Kubernetes rule: every requirement must match; an empty selector selects everything. */
    ALL_OF("allOf");

    private final String yamlName;

    SelectorMode(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }

    /** Reads {@code anyOf} / {@code allOf}, ignoring case, '-' and '_'. */
    public static SelectorMode fromYaml(String text) {
        String wanted = normalize(text);
        for (SelectorMode mode : values()) {
            if (normalize(mode.yamlName).equals(wanted)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("\"" + text + "\" is not a selector mode (anyOf or allOf)");
    }

    private static String normalize(String text) {
        return text == null ? "" : text.trim().replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
    }
}
