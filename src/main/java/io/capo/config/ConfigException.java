package io.capo.config;

import java.util.Optional;

/** An invalid Capo configuration; the message names the source and the offending field. */
public final class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String field;

    public ConfigException(String message) {
        this(message, null, null);
    }

    public ConfigException(String message, Throwable cause) {
        this(message, null, cause);
    }

    ConfigException(String message, String field, Throwable cause) {
        super(message, cause);
        this.field = field;
    }

    /** The dotted YAML path of the field at fault, when a single field is. */
    public Optional<String> field() {
        return Optional.ofNullable(field);
    }
}
