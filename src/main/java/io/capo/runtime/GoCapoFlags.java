package io.capo.runtime;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Go Capo manager's command line, so that its manifests and scripts start Capo unchanged.
 *
 * <p>Parsed as Go's {@code flag} package does: {@code -name} and {@code --name} are the same, a value follows as
 * {@code -name=value} or as the next argument, a boolean flag is true when given alone and takes a value only as
 * {@code -name=false}, and parsing stops at {@code --} or at the first argument that is not a flag. What follows is
 * left for Camel's own command line.
 *
 * <table>
 *   <tr><th>Go flag</th><th>Capo</th></tr>
 *   <tr><td>{@code --config}</td><td>the config file (wins over {@code CAPO_CONFIG_FILE})</td></tr>
 *   <tr><td>{@code --metrics-bind-address}</td><td>setting {@code metrics.bindAddress}</td></tr>
 *   <tr><td>{@code --health-probe-bind-address}</td><td>setting {@code health.healthProbeBindAddress}</td></tr>
 *   <tr><td>{@code --leader-elect}</td><td>setting {@code leaderElection.leaderElect}</td></tr>
 *   <tr><td>{@code --verbose}</td><td>DEBUG logs of Capo's own classes</td></tr>
 *   <tr><td>{@code --development}</td><td>plain text logs instead of JSON lines</td></tr>
 *   <tr><td>{@code --webhook-enable}</td><td>{@code true} only: Capo parks addresses at admission; see
 *       docs/migration.md</td></tr>
 * </table>
 *
 * @param configFile the config file given with {@code --config}
 * @param overrides  setting overrides by dotted path, as {@code capo.settings.<path>} gives them
 * @param verbose    {@code --verbose}
 * @param textLogs   {@code --development}
 * @param rest       the arguments after the flags, for Camel's command line
 */
public record GoCapoFlags(Optional<Path> configFile, Map<String, String> overrides, boolean verbose,
                          boolean textLogs, List<String> rest) {

    public static final GoCapoFlags NONE = new GoCapoFlags(Optional.empty(), Map.of(), false, false, List.of());

    private static final List<String> STRING_FLAGS = List.of("config", "metrics-bind-address",
            "health-probe-bind-address");
    private static final List<String> BOOLEAN_FLAGS = List.of("leader-elect", "webhook-enable", "verbose",
            "development");

    public GoCapoFlags {
        overrides = Map.copyOf(overrides);
        rest = List.copyOf(rest);
    }

    /** Parses the command line; an unknown flag or a bad value is an {@link IllegalArgumentException} naming it. */
    public static GoCapoFlags parse(String... args) {
        Map<String, String> values = new LinkedHashMap<>();
        int i = 0;
        while (i < args.length) {
            String arg = args[i];
            if (arg.equals("--")) {
                i++;
                break;
            }
            if (!isFlag(arg)) {
                break;
            }
            String body = arg.substring(arg.startsWith("--") ? 2 : 1);
            int eq = body.indexOf('=');
            String name = eq < 0 ? body : body.substring(0, eq);
            String value = eq < 0 ? null : body.substring(eq + 1);
            if (BOOLEAN_FLAGS.contains(name)) {
                values.put(name, value == null ? "true" : bool(name, value));
            } else if (STRING_FLAGS.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("flag needs an argument: -" + name);
                    }
                    value = args[++i];
                }
                values.put(name, value);
            } else {
                throw new IllegalArgumentException("flag provided but not defined: -" + name + " (Capo accepts the"
                        + " Go Capo's flags: " + String.join(", ", allFlags()) + ")");
            }
            i++;
        }
        if ("false".equals(values.get("webhook-enable"))) {
            throw new IllegalArgumentException("-webhook-enable=false is not supported: Capo parks an address when"
                    + " the API server asks its webhook, before the pod is gone; without the webhook the address is"
                    + " free before Capo could park it. Remove the ValidatingWebhookConfiguration instead to run"
                    + " without it");
        }
        Map<String, String> overrides = new LinkedHashMap<>();
        putIfPresent(values, "metrics-bind-address", overrides, "metrics.bindAddress");
        putIfPresent(values, "health-probe-bind-address", overrides, "health.healthProbeBindAddress");
        putIfPresent(values, "leader-elect", overrides, "leaderElection.leaderElect");
        Optional<Path> config = Optional.ofNullable(values.get("config")).filter(s -> !s.isBlank()).map(Path::of);
        return new GoCapoFlags(config, overrides, "true".equals(values.get("verbose")),
                "true".equals(values.get("development")), Arrays.asList(args).subList(i, args.length));
    }

    /** Whether any Go flag was given. */
    public boolean any() {
        return configFile.isPresent() || !overrides.isEmpty() || verbose || textLogs;
    }

    private static boolean isFlag(String arg) {
        // as Go's flag package: "-" alone is an argument, and so is anything not starting with "-"
        if (arg.length() < 2 || arg.charAt(0) != '-') {
            return false;
        }
        String body = arg.substring(arg.startsWith("--") ? 2 : 1);
        return !body.isEmpty() && body.charAt(0) != '-' && body.charAt(0) != '=';
    }

    /** Go's strconv.ParseBool. */
    private static String bool(String name, String value) {
        return switch (value) {
            case "1", "t", "T", "TRUE", "true", "True" -> "true";
            case "0", "f", "F", "FALSE", "false", "False" -> "false";
            default -> throw new IllegalArgumentException("invalid boolean value \"" + value + "\" for -" + name);
        };
    }

    private static void putIfPresent(Map<String, String> values, String flag, Map<String, String> into, String key) {
        String value = values.get(flag);
        if (value != null) {
            into.put(key, value);
        }
    }

    private static List<String> allFlags() {
        List<String> all = new ArrayList<>();
        STRING_FLAGS.forEach(f -> all.add("--" + f));
        BOOLEAN_FLAGS.forEach(f -> all.add("--" + f));
        return all;
    }
}
