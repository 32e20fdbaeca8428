package io.capo.config;

import java.util.List;
import java.util.Objects;

/**
 * The result of loading: valid settings plus what was accepted but deserves a look (unknown keys, ignored values).
 */
public record LoadedConfig(CapoSettings settings, List<String> warnings) {

    public LoadedConfig {
        Objects.requireNonNull(settings, "settings");
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }
}
