package io.capo.it;

import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.apache.camel.Route;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import static io.capo.it.ItSupport.metric;
import static io.capo.it.ItSupport.nextIpv4;
import static io.capo.it.ItSupport.statefulPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Capo runs its routes from a directory laid out as the kubelet mounts a ConfigMap ({@code x.camel.yaml ->
 * ..data/x.camel.yaml}, {@code ..data -> ..2026_11_26_...}). Swapping {@code ..data} atomically to a changed
 * release route changes the release behaviour without a restart, while the webhook keeps answering the API server
 * (dry-run deletions all through the reload); a broken file is refused and the routes running before keep running.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RouteHotReloadIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final List<String> FILES = List.of("admission-webhook.camel.yaml",
            "kubernetes-events.camel.yaml", "release.camel.yaml");
    private static final AtomicInteger GENERATION = new AtomicInteger();

    static ItEnvironment env;
    static KubernetesClient client;
    static CapoInstance capo;
    static String ns;
    static Path routes;
    static Path bundled;
    static final ConcurrentLinkedQueue<String> reloaderLog = new ConcurrentLinkedQueue<>();
    static AbstractAppender appender;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        bundled = Path.of("routes");
        routes = Files.createDirectories(dir.resolve("routes"));
        Map<String, String> files = new java.util.LinkedHashMap<>();
        for (String name : FILES) {
            files.put(name, Files.readString(bundled.resolve(name)));
        }
        publish(files);
        for (String name : FILES) {
            Files.createSymbolicLink(routes.resolve(name), Path.of("..data", name));
        }
        captureReloaderLog();

        env = new ItEnvironment("reload", dir);
        client = env.client();
        ns = env.namespace("etcd", true);
        capo = env.startCapo(b -> b.routesDir(routes).setting("ipReserveTime", "1h"));
        env.registerWebhook(capo, ns);
        env.awaitLeader(List.of(capo), WAIT);
    }

    @AfterAll
    static void stop() {
        if (appender != null) {
            ((LoggerContext) LogManager.getContext(false)).getRootLogger().removeAppender(appender);
            appender.stop();
        }
        if (env != null) {
            env.close();
        }
    }

    /** What the kubelet does on a ConfigMap update: new timestamped dir, new symlink, atomic rename over ..data. */
    static void publish(Map<String, String> files) throws IOException {
        String stamp = "..2026_11_26_10_00_" + String.format("%02d", GENERATION.incrementAndGet()) + "."
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmmssSSS"));
        Path version = Files.createDirectory(routes.resolve(stamp));
        for (Map.Entry<String, String> file : files.entrySet()) {
            Files.writeString(version.resolve(file.getKey()), file.getValue());
        }
        Path data = routes.resolve("..data");
        Path previous = Files.isSymbolicLink(data) ? routes.resolve(Files.readSymbolicLink(data)) : null;
        Path tmp = routes.resolve("..data_tmp");
        Files.createSymbolicLink(tmp, Path.of(stamp));
        Files.move(tmp, data, StandardCopyOption.ATOMIC_MOVE);
        if (previous != null) {
            try (var old = Files.list(previous)) {
                for (Path f : old.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(previous);
        }
    }

    static void captureReloaderLog() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        appender = new AbstractAppender("reload-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                if (event.getLoggerName().equals("io.capo.runtime.RoutesReloader")) {
                    reloaderLog.add(event.getLevel() + " " + event.getMessage().getFormattedMessage());
                }
            }
        };
        appender.start();
        context.getRootLogger().addAppender(appender);
    }

    static Map<String, String> bundledWith(String file, String content) throws IOException {
        Map<String, String> files = new java.util.LinkedHashMap<>();
        for (String name : FILES) {
            files.put(name, name.equals(file) ? content : Files.readString(bundled.resolve(name)));
        }
        return files;
    }

    static String releaseRouteWithTtl(String ttl) throws IOException {
        String original = Files.readString(bundled.resolve("release.camel.yaml"));
        String marker = "        - bean:\n            ref: goCapoAdoption";
        assertThat(original).contains(marker);
        return original.replace(marker, "        - setHeader:\n            name: CapoIpReserveTime\n"
                + "            constant: \"" + ttl + "\"\n" + marker);
    }

    /** Parks an address through the webhook and returns its CIDR once the pod is gone. */
    static String park(String name) {
        String ip = nextIpv4();
        statefulPod(client, ns, name, "node-1", ip);
        client.pods().inNamespace(ns).withName(name).withGracePeriod(0).delete();
        await().atMost(WAIT).until(() -> env.reservations().gone(ip + "/32"));
        assertThat(env.reservations().reason(ip + "/32")).as("parked by the webhook").isEqualTo("delete");
        return ip + "/32";
    }

    static List<String> routeIds() {
        return capo.context().getRoutes().stream().map(Route::getRouteId).sorted().toList();
    }

    @Test
    @Order(1)
    void aChangedReleaseRouteTakesEffectWithoutRestart() throws Exception {
        List<String> ids = routeIds();
        String cidr = park("before-0");
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> env.reservations().has(cidr));
        // webhook traffic all through the reload: dry-run deletions, each one a review of the webhook route
        statefulPod(client, ns, "probe-0", "node-1", nextIpv4());
        AtomicInteger probes = new AtomicInteger();
        ConcurrentLinkedQueue<String> probeFailures = new ConcurrentLinkedQueue<>();
        java.util.concurrent.atomic.AtomicBoolean probing = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread prober = new Thread(() -> {
            try (KubernetesClient once = env.k8s().newClientWithoutRetries()) {
                while (probing.get()) {
                    try {
                        once.pods().inNamespace(ns).withName("probe-0").dryRun().delete();
                        probes.incrementAndGet();
                    } catch (RuntimeException e) {
                        probeFailures.add(e.getMessage());
                    }
                }
            }
        }, "webhook-prober");
        prober.start();

        publish(bundledWith("release.camel.yaml", releaseRouteWithTtl("1s")));

        try {
            await().atMost(WAIT).until(() -> !env.reservations().has(cidr));
        } finally {
            probing.set(false);
            prober.join();
        }
        System.out.printf("webhook reviews during the route reload: %d answered, %d failed%n", probes.get(),
                probeFailures.size());
        assertThat(probeFailures).as("deletions refused while the routes were reloaded").isEmpty();
        assertThat(metric(capo, "capo_releases_total", "reason=\"ttl\"")).isEqualTo(1);
        assertThat(reloaderLog).anyMatch(l -> l.startsWith("INFO routes reloaded"));
        assertThat(routeIds()).isEqualTo(ids);
        // the webhook route was re-created as well and still answers the API server
        String next = park("after-0");
        await().atMost(WAIT).until(() -> !env.reservations().has(next));
    }

    @Test
    @Order(2)
    void aBrokenRouteFileIsRefusedAndTheRunningRoutesStay() throws Exception {
        List<String> ids = routeIds();
        int logged = reloaderLog.size();
        String broken = releaseRouteWithTtl("1s").replace("        - bean:\n            ref: releaseCycle",
                "        - noSuchStep:\n            ref: releaseCycle");

        publish(bundledWith("release.camel.yaml", broken));

        await().atMost(WAIT).until(() -> reloaderLog.stream().skip(logged)
                .anyMatch(l -> l.startsWith("WARN route change in")));
        assertThat(routeIds()).isEqualTo(ids);
        // still the 1s TTL of the last good release route, and the webhook still parks
        String cidr = park("broken-0");
        await().atMost(WAIT).until(() -> !env.reservations().has(cidr));
    }

    @Test
    @Order(3)
    void removingTheWebhookFileOrEmptyingEveryFileIsRefusedAndTheWebhookKeepsAnswering() throws Exception {
        List<String> ids = routeIds();
        int logged = reloaderLog.size();
        Map<String, String> withoutWebhook = bundledWith("release.camel.yaml", releaseRouteWithTtl("1s"));
        withoutWebhook.remove("admission-webhook.camel.yaml");

        publish(withoutWebhook);
        await().atMost(WAIT).until(() -> metric(capo, "capo_routes_reload_refused_total",
                "reason=\"required-route-missing\"") == 1);
        Map<String, String> emptied = new java.util.LinkedHashMap<>();
        FILES.forEach(name -> emptied.put(name, ""));
        publish(emptied);
        await().atMost(WAIT).until(() -> metric(capo, "capo_routes_reload_refused_total",
                "reason=\"empty\"") == 1);

        assertThat(reloaderLog.stream().skip(logged).toList()).hasSize(2)
                .allMatch(l -> l.startsWith("WARN route change in " + routes + " refused ("));
        assertThat(routeIds()).isEqualTo(ids);
        assertThat(capo.get("/observe/health/ready").statusCode()).isEqualTo(200);
        // the API server still reaches the webhook: the deletion is reviewed and the address parked
        String cidr = park("refused-0");
        await().atMost(WAIT).until(() -> !env.reservations().has(cidr));
    }
}
