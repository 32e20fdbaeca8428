package io.capo.config;

/** What the config reload reports. */
public interface ConfigMetrics {

    /** A changed config file was refused; the last good config stays in force. */
    void configReloadRefused(String reason);
}
