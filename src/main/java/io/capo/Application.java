package io.capo;

import io.capo.config.CapoConfigLoader;
import io.capo.config.CapoSettings;
import io.capo.config.ConfigException;
import io.capo.runtime.CapoConfiguration;
import io.capo.runtime.GoCapoFlags;
import io.capo.runtime.ServerCheck;
import io.capo.runtime.StartupOptions;
import org.apache.camel.main.Main;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Properties;

/**
 * Starts Capo: validates the config and checks its ports first, so that a bad file or a taken port stops
 * it with one line naming the cause. The Go Capo's command line ({@code --config=/capo_config.yaml}, …) is
 * accepted as well ({@link GoCapoFlags}).
 */
public final class Application {

    private Application() {
    }

    public static void main(String[] args) throws Exception {
        GoCapoFlags flags;
        try {
            flags = GoCapoFlags.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("capo: " + e.getMessage());
            System.exit(2);
            return;
        }
        // before the first logger is created: log4j2.xml reads them
        if (flags.verbose()) {
            System.setProperty("capo.logLevel", "DEBUG");
        }
        if (flags.textLogs()) {
            System.setProperty("capo.logFormat", "text");
        }
        Properties properties = new Properties();
        properties.putAll(System.getProperties());
        StartupOptions options = StartupOptions.from(properties, System.getenv()).with(flags);
        CapoSettings settings;
        try {
            settings = options.configFile().map(f -> new CapoConfigLoader().load(f, options.overrides()))
                    .orElseGet(() -> new CapoConfigLoader().parse("", options.overrides())).settings();
        } catch (ConfigException e) {
            System.err.println("capo: invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        for (int port : new int[]{settings.webhookPort(), settings.managementPort()}) {
            if (!free(port)) {
                System.err.println("capo: cannot start: port " + port + " is already in use");
                System.exit(1);
                return;
            }
        }
        Main main = new Main();
        main.configure().addConfiguration(new CapoConfiguration());
        main.addMainListener(new ServerCheck());
        // override properties: they win over application.properties
        main.addOverrideProperty("camel.server.port", Integer.toString(settings.webhookPort()));
        main.addOverrideProperty("camel.management.port", Integer.toString(settings.managementPort()));
        options.configFile().ifPresent(f -> main.addOverrideProperty(StartupOptions.CONFIG_FILE, f.toString()));
        flags.overrides().forEach((key, value) -> main.addOverrideProperty(StartupOptions.SETTINGS_PREFIX + key, value));
        options.routesDir().ifPresent(dir -> {
            main.addOverrideProperty(StartupOptions.ROUTES_DIR, dir.toString());
            main.addOverrideProperty("camel.main.routesIncludePattern", "file:" + dir.toAbsolutePath() + "/*.yaml");
        });
        try {
            System.exit(main.run(flags.rest().toArray(String[]::new)));
        } catch (Exception e) {
            System.err.println("capo: cannot start: " + e.getMessage());
            System.exit(1);
        }
    }

    private static boolean free(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
