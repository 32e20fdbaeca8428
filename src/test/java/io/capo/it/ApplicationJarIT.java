package io.capo.it;

import io.capo.testing.CapoInstance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The packaged jar as the image runs it ({@code java -jar capo.jar}), as its own process against the real API
 * server: it takes its ports from capo_config.yaml, its routes from the mounted directory, and refuses to start
 * on a taken port, an empty config file, or route files without a required route.
 */
class ApplicationJarIT {

    @TempDir
    Path dir;
    final List<Process> processes = new ArrayList<>();
    ItEnvironment env;

    @AfterEach
    void tearDown() throws Exception {
        for (Process process : processes) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        if (env != null) {
            env.close();
        }
    }

    static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    Process startJar(Path config, Path routes, Path log) throws Exception {
        return startJar(config, routes, log, List.of());
    }

    /** Without arguments the config file comes from CAPO_CONFIG_FILE; with arguments, from the command line only. */
    Process startJar(Path config, Path routes, Path log, List<String> args) throws Exception {
        Path jar = Path.of("target", "capo.jar").toAbsolutePath();
        assertThat(jar).as("mvn package builds the jar before the integration tests").exists();
        Path kubeconfig = dir.resolve("kubeconfig");
        Files.writeString(kubeconfig, env.k8s().kubeConfigYaml());
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-jar", jar.toString()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("KUBECONFIG", kubeconfig.toString());
        if (args.isEmpty()) {
            builder.environment().put("CAPO_CONFIG_FILE", config.toString());
        }
        builder.environment().put("CAPO_ROUTES_DIR", routes.toString());
        builder.environment().put("POD_NAMESPACE", "default");
        builder.environment().put("HOSTNAME", "capo-jar-it");
        builder.redirectErrorStream(true).redirectOutput(log.toFile());
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    /** The route files bundled in the jar, copied into a directory as the routes ConfigMap would mount them. */
    Path bundledRoutes() throws Exception {
        Path routes = Files.createDirectories(dir.resolve("routes"));
        for (String name : List.of("admission-webhook.camel.yaml", "kubernetes-events.camel.yaml", "release.camel.yaml")) {
            try (InputStream in = getClass().getResourceAsStream("/routes/" + name)) {
                Files.write(routes.resolve(name), in.readAllBytes());
            }
        }
        return routes;
    }

    static void awaitReady(HttpClient http, int managementPort, Path log) throws Exception {
        try {
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> http.send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + managementPort + "/observe/health/ready"))
                    .timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("the jar did not become ready; its log:\n" + Files.readString(log), e);
        }
    }

    @Test
    void jarTakesItsPortsAndRoutesFromTheMountedFilesAndRefusesATakenPort() throws Exception {
        env = new ItEnvironment("jar", dir);
        int webhookPort = freePort();
        int managementPort = freePort();
        Path config = dir.resolve("capo_config.yaml");
        Files.writeString(config, """
                apiVersion: config.capo.io/v1
                kind: CapoConfig
                health:
                  healthProbeBindAddress: ":%2$d"
                metrics:
                  bindAddress: ":%2$d"
                webhook:
                  port: %1$d
                  certDir: %3$s
                leaderElection:
                  resourceName: %4$s
                  resourceNamespace: default
                reservationObjectName: %5$s
                """.formatted(webhookPort, managementPort, env.certDir(), env.leaseName(), env.objectName()));
        Path routes = bundledRoutes();
        Files.writeString(routes.resolve("extra.camel.yaml"), """
                - route:
                    id: mounted-extra
                    from:
                      uri: timer:mounted-extra?period=200
                      steps:
                        - log:
                            message: "from the mounted directory"
                """);

        Path log = dir.resolve("capo.log");
        startJar(config, routes, log);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        URI metrics = URI.create("http://localhost:" + managementPort + "/observe/metrics");
        awaitReady(http, managementPort, log);

        await().atMost(Duration.ofSeconds(20)).until(() -> http.send(
                HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).body().contains("routeId=\"mounted-extra\""));
        HttpResponse<String> webhook = CapoInstance.httpsClient(env.certificates().ca()).send(
                HttpRequest.newBuilder(URI.create("https://localhost:" + webhookPort + "/pod-ip-reservation"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(webhook.statusCode()).isEqualTo(400);
        assertThat(Files.readString(log, StandardCharsets.UTF_8)).contains("\"log.level\"");

        Path second = dir.resolve("second.log");
        Process taken = startJar(config, routes, second);
        assertThat(taken.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(taken.exitValue()).isEqualTo(1);
        assertThat(Files.readString(second)).contains("port " + webhookPort + " is already in use");

        // an emptied config file: refused at start instead of running on the defaults
        Path empty = Files.writeString(dir.resolve("empty_config.yaml"), "# truncated\n");
        Path third = dir.resolve("third.log");
        Process emptyConfig = startJar(empty, routes, third);
        assertThat(emptyConfig.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(emptyConfig.exitValue()).isEqualTo(2);
        assertThat(Files.readString(third)).contains("capo: invalid configuration: " + empty + ": has no settings");

        // route files without the release route: Capo does not run without it
        Path partial = Files.createDirectories(dir.resolve("partial-routes"));
        Files.copy(routes.resolve("admission-webhook.camel.yaml"), partial.resolve("admission-webhook.camel.yaml"));
        Files.copy(routes.resolve("kubernetes-events.camel.yaml"), partial.resolve("kubernetes-events.camel.yaml"));
        Path otherPorts = Files.writeString(dir.resolve("other_config.yaml"), Files.readString(config)
                .replace(":" + managementPort, ":" + freePort()).replace("port: " + webhookPort, "port: " + freePort()));
        Path fourth = dir.resolve("fourth.log");
        Process withoutRelease = startJar(otherPorts, partial, fourth);
        assertThat(withoutRelease.waitFor(90, TimeUnit.SECONDS)).isTrue();
        assertThat(withoutRelease.exitValue()).isEqualTo(3);
        assertThat(Files.readString(fourth)).contains("Capo cannot serve: required route(s) release not defined");
    }

    /** The Go Capo's manager command line: the config file and the ports come from flags, logs are plain text. */
    @Test
    void jarAcceptsTheGoCapoCommandLine() throws Exception {
        env = new ItEnvironment("jar-go", dir);
        int webhookPort = freePort();
        int managementPort = freePort();
        Path config = dir.resolve("capo_config.yaml");
        Files.writeString(config, """
                apiVersion: config.capo.io/v1
                kind: CapoConfig
                webhook:
                  port: %1$d
                  certDir: %2$s
                leaderElection:
                  resourceName: %3$s
                  resourceNamespace: default
                reservationObjectName: %4$s
                """.formatted(webhookPort, env.certDir(), env.leaseName(), env.objectName()));
        Path routes = bundledRoutes();
        Path log = dir.resolve("capo-go-flags.log");
        startJar(config, routes, log, List.of("--config=" + config, "--metrics-bind-address=:" + managementPort,
                "--health-probe-bind-address", ":" + managementPort, "--leader-elect", "--development"));
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        awaitReady(http, managementPort, log);
        String text = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(text).as("-development gives plain text lines").doesNotContain("\"log.level\"")
                .contains("Capo settings:");

        Process typo = startJar(config, routes, dir.resolve("typo.log"), List.of("--conifg=" + config));
        assertThat(typo.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(typo.exitValue()).isEqualTo(2);
        assertThat(Files.readString(dir.resolve("typo.log"))).contains("flag provided but not defined: -conifg");
    }
}
