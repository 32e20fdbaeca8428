package io.capo.it;

import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hawtio 4 as its war ({@code io.hawt:hawtio-war}, a test dependency) in an embedded Jetty 12 on 127.0.0.1, at
 * {@code /hawtio}. Hawtio reads its settings from {@code hawtio.*} system properties: authentication is off (there
 * is no realm here) and the proxy that Hawtio's connect plugin uses for remote Jolokia agents allows localhost only,
 * as the war ships it.
 */
final class HawtioServer implements AutoCloseable {

    static final String CONTEXT_PATH = "/hawtio";
    private static final Map<String, String> SETTINGS = Map.of(
            "hawtio.authenticationEnabled", "false",
            "hawtio.proxyAllowlist", "localhost,127.0.0.1");

    private final Server server;
    private final Map<String, String> previous;

    private HawtioServer(Server server, Map<String, String> previous) {
        this.server = server;
        this.previous = previous;
    }

    /** The war the build resolved ({@code -Dcapo.it.hawtioWar}, set by the pom), or the local repository's copy. */
    static Path war() {
        String configured = System.getProperty("capo.it.hawtioWar");
        Path war = configured != null && !configured.isBlank() && !configured.startsWith("${")
                ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".m2", "repository", "io", "hawt", "hawtio-war", "4.2.0",
                "hawtio-war-4.2.0.war");
        if (!Files.isRegularFile(war)) {
            throw new IllegalStateException("hawtio-war not found at " + war + ": mvn verify resolves it (test dependency"
                    + " io.hawt:hawtio-war)");
        }
        return war;
    }

    static HawtioServer start(Path war, Path workDir) throws Exception {
        Map<String, String> previous = new LinkedHashMap<>();
        SETTINGS.forEach((key, value) -> {
            previous.put(key, System.getProperty(key));
            System.setProperty(key, value);
        });
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        WebAppContext webapp = new WebAppContext();
        webapp.setContextPath(CONTEXT_PATH);
        webapp.setWar(war.toString());
        webapp.setTempDirectory(Files.createDirectories(workDir.resolve("jetty")).toFile());
        webapp.setThrowUnavailableOnStartupException(true);
        server.setHandler(webapp);
        HawtioServer hawtio = new HawtioServer(server, previous);
        try {
            server.start();
        } catch (Exception e) {
            hawtio.close();
            throw e;
        }
        return hawtio;
    }

    int port() {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    /** {@code http://127.0.0.1:<port>/hawtio} */
    String url() {
        return "http://127.0.0.1:" + port() + CONTEXT_PATH;
    }

    /** Where Hawtio's proxy forwards to a Jolokia agent at {@code http://localhost:<port><path>}. */
    String proxyUrl(int port, String path) {
        return url() + "/proxy/http/localhost/" + port + path;
    }

    @Override
    public void close() throws Exception {
        try {
            server.stop();
        } finally {
            previous.forEach((key, value) -> {
                if (value == null) {
                    System.clearProperty(key);
                } else {
                    System.setProperty(key, value);
                }
            });
        }
    }
}
