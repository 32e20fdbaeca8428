package io.capo.config;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The result of loading: valid settings plus what was accepted but deserves a look (unknown keys, ignored values),
 * and which settings keys the file named ({@code namedKeys}, a {@code null} value included) and gave a value
 * ({@code setKeys}), in dotted form ({@code leaderElection.leaseDuration}).
 */
public record LoadedConfig(CapoSettings settings, List<String> warnings, Set<String> setKeys,
                           Set<String> namedKeys) {

    public LoadedConfig {
        Objects.requireNonNull(settings, "settings");
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
        setKeys = setKeys == null ? Set.of() : Set.copyOf(setKeys);
        namedKeys = namedKeys == null ? Set.of() : Set.copyOf(namedKeys);
    }

    public LoadedConfig(CapoSettings settings, List<String> warnings) {
        this(settings, warnings, Set.of(), Set.of());
    }
}
