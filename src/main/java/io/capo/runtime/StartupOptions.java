package io.capo.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Where Capo finds its config file and route directory, and the per-key setting overrides.
 *
 * <ul>
 *   <li>config file: the Go Capo's flag {@code --config}, else property {@code capo.configFile}, else env {@code CAPO_CONFIG_FILE}, else
 *       {@code /capo_config.yaml} (the Go Capo's mount path) or {@code /etc/capo/capo_config.yaml} when
 *       present; without any, built-in defaults apply</li>
 *   <li>routes directory: property {@code capo.routesDir} or env {@code CAPO_ROUTES_DIR}; without it the
 *       routes bundled in the jar run</li>
 *   <li>overrides: properties {@code capo.settings.<key>} (e.g. {@code capo.settings.ipReserveTime=1h})</li>
 * </ul>
 */
public record StartupOptions(Optional<Path> configFile, Optional<Path> routesDir, Map<String, String> overrides) {

    public static final String CONFIG_FILE = "capo.configFile";
    public static final String ROUTES_DIR = "capo.routesDir";
    public static final String SETTINGS_PREFIX = "capo.settings.";
    static final List<Path> DEFAULT_CONFIG_FILES = List.of(Path.of("/capo_config.yaml"),
            Path.of("/etc/capo/capo_config.yaml"));

    public static StartupOptions from(Properties properties, Map<String, String> env) {
        Optional<Path> config = text(properties.getProperty(CONFIG_FILE)).or(() -> text(env.get("CAPO_CONFIG_FILE")))
                .map(Path::of).or(() -> DEFAULT_CONFIG_FILES.stream().filter(Files::isRegularFile).findFirst());
        Optional<Path> routes = text(properties.getProperty(ROUTES_DIR)).or(() -> text(env.get("CAPO_ROUTES_DIR")))
                .map(Path::of);
        Map<String, String> overrides = new LinkedHashMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (key.startsWith(SETTINGS_PREFIX)) {
                overrides.put(key.substring(SETTINGS_PREFIX.length()), properties.getProperty(key));
            }
        }
        return new StartupOptions(config, routes, Map.copyOf(overrides));
    }

    /** These options with the Go Capo's flags on top: flags win, as the Go manager documents. */
    public StartupOptions with(GoCapoFlags flags) {
        Map<String, String> merged = new LinkedHashMap<>(overrides);
        merged.putAll(flags.overrides());
        return new StartupOptions(flags.configFile().or(() -> configFile), routesDir, Map.copyOf(merged));
    }

    private static Optional<String> text(String value) {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }
}
