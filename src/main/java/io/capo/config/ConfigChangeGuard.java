package io.capo.config;

import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Decides whether a valid config file may replace the running one on reload.
 *
 * <p>A key the running file gives a value must still be named by the new file. A key that silently disappears
 * (a truncated write, a ConfigMap rendered from the wrong values) would fall back to its default, and defaults
 * such as {@code ipReserveMaxCount: 300} or {@code ipReserveTime: 40m} release parked addresses at once when the
 * running file held more or longer. Going back to a default stays possible, but only said explicitly: name the
 * key with a null value ({@code ipReserveMaxCount: ~}), write the default value, or restart Capo (a start
 * has no running file to compare with).
 */
final class ConfigChangeGuard {

    private ConfigChangeGuard() {
    }

    /** The refusal of {@code next} in place of {@code running}, empty when it may be applied. */
    static Optional<ConfigException> check(LoadedConfig running, LoadedConfig next, String file) {
        Set<String> dropped = new TreeSet<>(running.setKeys());
        dropped.removeAll(next.namedKeys());
        if (dropped.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ConfigException(file + ": no longer names " + String.join(", ", dropped)
                + ", set in the running config; refused so that they do not fall back to their defaults. To go "
                + "back to a default, set the key to null (e.g. " + dropped.iterator().next()
                + ": ~) or to the default value", null, null, ConfigException.KEYS_DROPPED));
    }
}
