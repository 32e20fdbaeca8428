package io.capo;

import io.capo.config.CapoConfigLoader;
import io.capo.config.CapoSettings;
import io.capo.config.ConfigException;
import io.capo.runtime.CapoConfiguration;
import io.capo.runtime.ServerCheck;
import io.capo.runtime.StartupOptions;
import org.apache.camel.main.Main;

import java.util.Properties;

/** Starts Capo: validates the config first, so that a bad file stops it with a message naming the field. */
public final class Application {

    private Application() {
    }

    public static void main(String[] args) throws Exception {
        Properties properties = new Properties();
        properties.putAll(System.getProperties());
        StartupOptions options = StartupOptions.from(properties, System.getenv());
        CapoSettings settings;
        try {
            settings = options.configFile().map(f -> new CapoConfigLoader().load(f, options.overrides()))
                    .orElseGet(() -> new CapoConfigLoader().parse("", options.overrides())).settings();
        } catch (ConfigException e) {
            System.err.println("capo: invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        Main main = new Main();
        main.configure().addConfiguration(new CapoConfiguration());
        main.addMainListener(new ServerCheck());
        main.addInitialProperty("camel.server.port", Integer.toString(settings.webhookPort()));
        main.addInitialProperty("camel.management.port", Integer.toString(settings.managementPort()));
        options.configFile().ifPresent(f -> main.addInitialProperty(StartupOptions.CONFIG_FILE, f.toString()));
        options.routesDir().ifPresent(dir -> {
            main.addInitialProperty(StartupOptions.ROUTES_DIR, dir.toString());
            main.addInitialProperty("camel.main.routesIncludePattern", "file:" + dir.toAbsolutePath() + "/*.yaml");
        });
        try {
            System.exit(main.run(args));
        } catch (Exception e) {
            System.err.println("capo: cannot start: " + e.getMessage());
            System.exit(1);
        }
    }
}
