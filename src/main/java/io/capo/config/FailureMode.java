package io.capo.config;

import java.util.Locale;

/** What the admission webhook answers when the reservation could not be written within its budget. */
public enum FailureMode {
    /** Refuse the pod deletion, so the address is not lost. */
    DENY("deny"),
    /** Let the deletion through without a reservation. */
    ALLOW("allow");

    private final String yamlName;

    FailureMode(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }

    /** Reads {@code deny} / {@code allow}, ignoring case. */
    public static FailureMode fromYaml(String text) {
        String wanted = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        for (FailureMode mode : values()) {
            if (mode.yamlName.equals(wanted)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("\"" + text + "\" is not a failure mode (deny or allow)");
    }
}
