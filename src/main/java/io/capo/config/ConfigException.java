package io.capo.config;

import java.util.Optional;

/** An invalid Capo configuration; the message names the source and the offending field. */
public final class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Reasons, as counted in {@code capo_config_reload_refused_total{reason}}. */
    public static final String INVALID = "invalid";
    public static final String EMPTY = "empty";
    public static final String UNREADABLE = "unreadable";
    public static final String KEYS_DROPPED = "keys-dropped";

    private final String field;
    private final String reason;

    public ConfigException(String message) {
        this(message, null, null);
    }

    public ConfigException(String message, Throwable cause) {
        this(message, null, cause);
    }

    ConfigException(String message, String field, Throwable cause) {
        this(message, field, cause, INVALID);
    }

    ConfigException(String message, String field, Throwable cause, String reason) {
        super(message, cause);
        this.field = field;
        this.reason = reason;
    }

    /** The dotted YAML path of the field at fault, when a single field is. */
    public Optional<String> field() {
        return Optional.ofNullable(field);
    }

    /** Why the file was refused: {@link #INVALID}, {@link #EMPTY}, {@link #UNREADABLE} or {@link #KEYS_DROPPED}. */
    public String reason() {
        return reason;
    }
}
