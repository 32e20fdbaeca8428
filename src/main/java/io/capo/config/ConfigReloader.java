package io.capo.config;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the config file when its content changes and swaps the settings in the {@link SettingsHolder}. A file
 * that is invalid, unreadable, without any key, or that drops a key the running file set
 * ({@link ConfigChangeGuard}) is refused with one WARN line and counted; the last good settings stay. The file
 * must be mounted as a whole ConfigMap volume: a subPath mount never sees updates.
 */
public final class ConfigReloader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);

    private final Path configFile;
    private final Map<String, String> overrides;
    private final CapoConfigLoader loader;
    private final SettingsHolder holder;
    private final FileWatcher watcher;
    private final ConfigMetrics metrics;
    private final AtomicReference<Registration> registration = new AtomicReference<>();
    private final AtomicReference<String> lastError = new AtomicReference<>();
    private LoadedConfig lastGood;

    /** @param running what the file held when the settings in {@code holder} were loaded from it */
    public ConfigReloader(Path configFile, Map<String, String> overrides, CapoConfigLoader loader,
                          SettingsHolder holder, LoadedConfig running, FileWatcher watcher, ConfigMetrics metrics) {
        this.configFile = Objects.requireNonNull(configFile, "configFile");
        this.overrides = Map.copyOf(Objects.requireNonNull(overrides, "overrides"));
        this.loader = Objects.requireNonNull(loader, "loader");
        this.holder = Objects.requireNonNull(holder, "holder");
        this.lastGood = Objects.requireNonNull(running, "running");
        this.watcher = Objects.requireNonNull(watcher, "watcher");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /** Registers the watch; the {@link FileWatcher} itself is started by its owner. */
    public void start() {
        Registration added = watcher.watch(configFile, changed -> reload());
        Registration previous = registration.getAndSet(added);
        if (previous != null) {
            previous.cancel();
        }
    }

    /** Loads the file now; true when it was valid and is now current. */
    public synchronized boolean reload() {
        LoadedConfig loaded;
        try {
            loaded = loader.load(configFile, overrides);
            ConfigChangeGuard.check(lastGood, loaded, configFile.getFileName().toString()).ifPresent(refusal -> {
                throw refusal;
            });
        } catch (ConfigException e) {
            lastError.set(e.getMessage());
            metrics.configReloadRefused(e.reason());
            LOG.warn("config change in {} refused ({}), keeping the last good config: {}", configFile, e.reason(),
                    e.getMessage());
            return false;
        }
        lastGood = loaded;
        lastError.set(null);
        loaded.warnings().forEach(warning -> LOG.warn("config: {}", warning));
        holder.replace(loaded.settings());
        LOG.info("config reloaded from {}: {}", configFile, loaded.settings().describe());
        return true;
    }

    /** The message of the last refused reload, empty once a reload succeeded. */
    public Optional<String> lastError() {
        return Optional.ofNullable(lastError.get());
    }

    @Override
    public void close() {
        Registration current = registration.getAndSet(null);
        if (current != null) {
            current.cancel();
        }
    }
}
