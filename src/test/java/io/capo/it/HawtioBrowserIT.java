package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Hawtio 4 in a real browser against a running Capo: the packaged jar ({@code java -jar capo.jar}, its own process,
 * on the real API server, with the policy file in the jar), Hawtio's war in an embedded Jetty, and headless Chromium
 * driven by Selenium. Hawtio reaches Capo as a remote connection, through its connect plugin and proxy, at
 * {@code http://localhost:<management port>/observe/jolokia}: this JVM has no Camel context named {@code capo}, so
 * what the Camel plugin shows comes from the jar.
 *
 * <p>It checks what a user does: the Camel plugin shows Capo's context and its routes, with statistics (the routes
 * table, a route's attributes, the route diagram, which needs Camel's {@code dump*} operations); and it guards
 * Capo's Jolokia policy from both sides: what Hawtio needs stays readable, and stopping a route from Hawtio, a
 * write, other operations and the JVM's system properties stay refused.
 *
 * <p>Screenshots go to {@code target/hawtio-it/} (docs/operations.md shows one). Needs Debian's {@code chromium} and
 * {@code chromium-driver}: see {@link HeadlessChromium}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HawtioBrowserIT {

    static final Path OUT = Path.of("target", "hawtio-it").toAbsolutePath();
    static final Duration UI_WAIT = Duration.ofSeconds(30);
    static final String CONTEXT = "capo";
    static final String CONNECTION = "capo";
    static final String WEBHOOK = WebhookRegistration.NAME_PREFIX + "hawtio";
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    static ItEnvironment env;
    static Process capo;
    static int managementPort;
    static HawtioServer hawtio;
    static ChromeDriver browser;

    /** On a failure: what the browser showed, and its page, next to Capo's log. */
    @RegisterExtension
    static final TestWatcher EVIDENCE = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (browser != null) {
                try {
                    String name = "failed-" + context.getRequiredTestMethod().getName();
                    HeadlessChromium.screenshot(browser, OUT.resolve(name + ".png"));
                    Files.writeString(OUT.resolve(name + ".html"), browser.getCurrentUrl() + "\n"
                            + browser.getPageSource());
                } catch (Exception e) {
                    cause.addSuppressed(e);
                }
            }
        }
    };

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        Path[] binaries = HeadlessChromium.requireBinaries();
        Files.createDirectories(OUT);
        env = new ItEnvironment("hawtio", dir);
        int webhookPort = freePort();
        managementPort = freePort();
        capo = startJar(dir, webhookPort);

        // traffic for the statistics: the API server calls Capo's webhook for the deletion of a selected pod
        String namespace = env.namespace("hawtio", true);
        WebhookRegistration.register(env.client(), WEBHOOK, webhookPort, env.certificates().caPem());
        String ip = ItSupport.nextIpv4();
        ItSupport.statefulPod(env.client(), namespace, "db-0", env.node("hawtio-node"), ip);
        // dry-run deletions until the API server calls the new registration, then the deletion itself
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            env.client().pods().inNamespace(namespace).withName("db-0").dryRun().delete();
            return capoRouteAttribute("admission-webhook", "ExchangesTotal").asLong() > 0;
        });
        env.client().pods().inNamespace(namespace).withName("db-0").withGracePeriod(0).delete();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .until(() -> env.reservations().has(ip + "/32"));

        hawtio = HawtioServer.start(HawtioServer.war(), OUT);
        browser = HeadlessChromium.start(binaries, OUT.resolve("chromium"));
        // Hawtio's connect plugin keeps its connections in the browser; ?con= opens one (what "Connect" does)
        browser.get(hawtio.url() + "/");
        browser.executeScript("localStorage.setItem('connect.connections', arguments[0])", """
                {"%1$s": {"id": "%1$s", "name": "%1$s", "scheme": "http", "host": "localhost", "port": %2$d,
                          "path": "/observe/jolokia"}}""".formatted(CONNECTION, managementPort));
        browser.get(hawtio.url() + "/?con=" + CONNECTION);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (browser != null) {
                browser.quit();
            }
            if (hawtio != null) {
                hawtio.close();
            }
        } finally {
            if (capo != null) {
                capo.destroy();
                if (!capo.waitFor(30, TimeUnit.SECONDS)) {
                    capo.destroyForcibly();
                }
            }
            if (env != null) {
                WebhookRegistration.unregister(env.client(), WEBHOOK);
                env.close();
            }
        }
    }

    @Test
    @Order(1)
    void camelPluginShowsCaposContextAndItsRoutes() throws Exception {
        // no context of that name in this JVM (replicas started in-process by other ITs have other names): what
        // Hawtio shows comes from the jar, through the remote connection
        assertThat(ManagementFactory.getPlatformMBeanServer().queryNames(new ObjectName("org.apache.camel:context="
                + CONTEXT + ",*"), null)).isEmpty();
        wait("the Camel plugin with Capo's context", () -> treeNode(CONTEXT).isPresent());
        assertThat(browser.getCurrentUrl()).contains("/hawtio/camel");
        assertThat(text(By.id("hawtio-header"))).as("the connection in Hawtio's header").contains(CONNECTION);
        // the Camel Contexts table
        wait("Capo's context, started", () -> cells("Context").contains(CONTEXT) && cells("State").contains("Started"));

        List<String> routeIds = capoRouteIds();
        assertThat(routeIds).contains("admission-webhook", "release", "kubernetes-pod-events",
                "kubernetes-node-deleted");
        wait("every route of Capo in the tree", () -> routeIds.stream().allMatch(id -> treeNode(id).isPresent()));
        HeadlessChromium.screenshot(browser, OUT.resolve("camel-context.png"));
    }

    @Test
    @Order(2)
    void routeStatisticsAreReadable() throws Exception {
        wait("the routes folder", () -> treeNode("routes").isPresent());
        treeNode("routes").orElseThrow().click();
        wait("the routes table", () -> cells("Name").containsAll(capoRouteIds()));
        long total = capoRouteAttribute("admission-webhook", "ExchangesTotal").asLong();
        assertThat(total).as("the API server called the webhook").isPositive();
        wait("admission-webhook's statistics in the routes table", () -> {
            List<String> names = cells("Name");
            int row = names.indexOf("admission-webhook");
            return row >= 0 && cells("State").get(row).equals("Started")
                    && cells("Total").get(row).equals(Long.toString(total))
                    && cells("Completed").get(row).equals(Long.toString(
                    capoRouteAttribute("admission-webhook", "ExchangesCompleted").asLong()))
                    && cells("Failed").get(row).equals("0");
        });
        HeadlessChromium.screenshot(browser, OUT.resolve("camel-routes.png"));

        // one route: its attributes, then its diagram (Camel's dumpRoutesAsXml and dumpRouteStatsAsXml)
        treeNode("admission-webhook").orElseThrow().click();
        wait("the route's attributes", () -> attribute("ExchangesTotal").equals(Long.toString(total))
                && attribute("RouteId").equals("admission-webhook") && attribute("State").equals("Started")
                && !attribute("MeanProcessingTime").isEmpty());
        HeadlessChromium.screenshot(browser, OUT.resolve("camel-route-attributes.png"));
        tab("Route Diagram").click();
        wait("the route diagram with its steps", () -> browser.findElements(By.cssSelector(".react-flow__node"))
                .size() > 5);
        HeadlessChromium.screenshot(browser, OUT.resolve("camel-route-diagram.png"));
    }

    @Test
    @Order(3)
    void policyRefusesWhatHawtioOffersBeyondReading() throws Exception {
        // Hawtio offers to stop a route; Capo's policy refuses the operation and the route keeps running
        treeNode("routes").orElseThrow().click();
        wait("the routes table", () -> cells("Name").contains("admission-webhook"));
        List<WebElement> rows = browser.findElements(By.cssSelector("table tbody tr"));
        WebElement row = rows.stream().filter(r -> r.getText().contains("admission-webhook")).findFirst().orElseThrow();
        row.findElement(By.cssSelector("input[type=checkbox]")).click();
        WebElement stopButton = browser.findElements(By.tagName("button")).stream()
                .filter(b -> b.getText().trim().equals("Stop")).findFirst().orElseThrow();
        wait("the Stop button enabled", stopButton::isEnabled);
        stopButton.click();
        wait("Hawtio's refusal", () -> browser.findElements(By.cssSelector(".pf-v5-c-alert")).stream()
                .anyMatch(a -> a.getText().contains("Couldn't stop the route")
                        && a.getText().contains("forbidden")));
        HeadlessChromium.screenshot(browser, OUT.resolve("stop-refused.png"));
        assertThat(capoRouteAttribute("admission-webhook", "State").asText()).isEqualTo("Started");

        // the JVM's system properties (they can hold secrets) stay unreadable: Hawtio shows none
        tab("Runtime").click();
        wait("the system properties tab, empty", () -> tabs().stream().anyMatch(t -> t.getText().equals(
                "System properties")) && browser.getPageSource().contains("No results found"));
        assertThat(browser.getPageSource()).doesNotContain("java.version").doesNotContain("java.class.path");
        tab("Metrics").click();
        wait("the JVM's metrics", () -> browser.getPageSource().contains("Heap Used")
                && browser.getPageSource().contains("Thread Count"));
        // thread dumps (stack traces) stay refused: Hawtio's thread list is empty
        tab("Threads").click();
        wait("the threads tab, empty", () -> browser.getPageSource().contains("Thread dump")
                && browser.getPageSource().contains("No results found"));
        assertThat(browser.getPageSource()).doesNotContain("vert.x-eventloop-thread");
        // the JMX plugin lists every MBean (list and search are allowed everywhere)
        tab("JMX").click();
        wait("the JMX tree", () -> treeNode("org.apache.camel").isPresent() && treeNode("java.lang").isPresent());

        // what else a Hawtio user could send through the same proxy: every write and other exec refused
        String context = "org.apache.camel:context=" + CONTEXT + ",type=context,name=\\\"" + CONTEXT + "\\\"";
        long shutdownTimeout = capoJolokia("read/" + URLEncoder.encode("org.apache.camel:context=" + CONTEXT
                + ",type=context,name=\"" + CONTEXT + "\"", StandardCharsets.UTF_8) + "/Timeout").path("value").asLong();
        assertThat(shutdownTimeout).as("Camel's shutdown timeout, readable").isPositive();
        Path heapDump = OUT.resolve("refused.hprof");
        Files.deleteIfExists(heapDump);
        for (String refused : List.of(
                "{\"type\":\"write\",\"mbean\":\"" + context + "\",\"attribute\":\"Timeout\",\"value\":1}",
                "{\"type\":\"write\",\"mbean\":\"java.lang:type=Memory\",\"attribute\":\"Verbose\",\"value\":true}",
                "{\"type\":\"write\",\"mbean\":\"java.lang:type=Threading\",\"attribute\":\"ThreadCpuTimeEnabled\","
                        + "\"value\":false}",
                "{\"type\":\"exec\",\"mbean\":\"" + context + "\",\"operation\":\"stop()\"}",
                "{\"type\":\"exec\",\"mbean\":\"java.lang:type=Memory\",\"operation\":\"gc()\"}",
                "{\"type\":\"exec\",\"mbean\":\"java.lang:type=Threading\","
                        + "\"operation\":\"dumpAllThreads(boolean,boolean)\",\"arguments\":[false,false]}",
                "{\"type\":\"exec\",\"mbean\":\"com.sun.management:type=HotSpotDiagnostic\","
                        + "\"operation\":\"dumpHeap\",\"arguments\":[\"" + heapDump + "\",true]}",
                "{\"type\":\"read\",\"mbean\":\"java.lang:type=Runtime\",\"attribute\":\"SystemProperties\"}")) {
            JsonNode answer = throughHawtio(refused);
            assertThat(answer.path("status").asInt()).as(refused).isEqualTo(403);
        }
        assertThat(heapDump).doesNotExist();
        assertThat(capoJolokia("read/" + URLEncoder.encode("org.apache.camel:context=" + CONTEXT
                + ",type=context,name=\"" + CONTEXT + "\"", StandardCharsets.UTF_8) + "/Timeout").path("value").asLong())
                .isEqualTo(shutdownTimeout);
        assertThat(capoJolokia("read/java.lang:type=Memory/Verbose").path("value").asBoolean()).isFalse();
        assertThat(capoRouteAttribute("admission-webhook", "State").asText()).isEqualTo("Started");
        // and what Hawtio needs still answers through the same proxy
        assertThat(throughHawtio("{\"type\":\"exec\",\"mbean\":\"" + context + "\",\"operation\":"
                + "\"dumpRoutesAsXml()\"}").path("value").asText()).contains("admission-webhook");
        assertThat(throughHawtio("{\"type\":\"read\",\"mbean\":\"java.lang:type=Threading\","
                + "\"attribute\":\"ThreadCpuTimeEnabled\"}").path("status").asInt()).isEqualTo(200);
    }

    // --- Capo ---

    static Process startJar(Path dir, int webhookPort) throws Exception {
        Path jar = Path.of("target", "capo.jar").toAbsolutePath();
        assertThat(jar).as("mvn package builds the jar before the integration tests").exists();
        Path config = Files.writeString(dir.resolve("capo_config.yaml"), """
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
        Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), env.k8s().kubeConfigYaml());
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", jar.toString());
        builder.environment().put("KUBECONFIG", kubeconfig.toString());
        builder.environment().put("CAPO_CONFIG_FILE", config.toString());
        builder.environment().put("POD_NAMESPACE", "default");
        builder.environment().put("HOSTNAME", "capo-hawtio-it");
        Path log = OUT.resolve("capo.log");
        builder.redirectErrorStream(true).redirectOutput(log.toFile());
        Process process = builder.start();
        try {
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + managementPort + "/observe/health/ready"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            process.destroyForcibly();
            throw new AssertionError("the jar did not become ready; its log:\n" + Files.readString(log), e);
        }
        return process;
    }

    /** A GET on Capo's Jolokia, directly (not through Hawtio). */
    static JsonNode capoJolokia(String path) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(
                "http://localhost:" + managementPort + "/observe/jolokia/" + path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        return ItSupport.JSON_MAPPER.readTree(response.body());
    }

    static List<String> capoRouteIds() throws Exception {
        JsonNode value = capoJolokia("read/org.apache.camel:context=" + CONTEXT + ",type=routes,*/RouteId")
                .path("value");
        List<String> ids = new ArrayList<>();
        value.forEach(route -> ids.add(route.path("RouteId").asText()));
        return List.copyOf(new TreeSet<>(ids));
    }

    static JsonNode capoRouteAttribute(String routeId, String attribute) throws Exception {
        return capoJolokia("read/" + URLEncoder.encode("org.apache.camel:context=" + CONTEXT + ",type=routes,name=\""
                + routeId + "\"", StandardCharsets.UTF_8).replace("+", "%20") + "/" + attribute).path("value");
    }

    /** A Jolokia request as Hawtio sends it: through Hawtio's proxy for the connection. */
    static JsonNode throughHawtio(String request) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(
                        hawtio.proxyUrl(managementPort, "/observe/jolokia"))).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "text/json").POST(HttpRequest.BodyPublishers.ofString(request)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("Hawtio's proxy passes Jolokia's answer: " + response.body())
                .isEqualTo(200);
        return ItSupport.JSON_MAPPER.readTree(response.body());
    }

    static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    // --- what the browser shows ---

    interface Check {
        boolean holds() throws Exception;
    }

    static void wait(String what, Check check) {
        new WebDriverWait(browser, UI_WAIT, Duration.ofMillis(250)).withMessage("Hawtio never showed " + what)
                .ignoring(RuntimeException.class).until(driver -> {
                    try {
                        return check.holds();
                    } catch (RuntimeException e) {
                        throw e;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    static Optional<WebElement> treeNode(String label) {
        return browser.findElements(By.cssSelector("button.pf-v5-c-tree-view__node-text")).stream()
                .filter(b -> b.getText().trim().equals(label)).findFirst();
    }

    /** Hawtio's navigation links: the plugins on the left, the tabs of the selected node or page. */
    static List<WebElement> tabs() {
        return browser.findElements(By.cssSelector("a.pf-v5-c-nav__link"));
    }

    static WebElement tab(String title) {
        return tabs().stream().filter(t -> t.getText().trim().equals(title)).findFirst().orElseThrow();
    }

    /** The cells of a table column, top to bottom, in every table that has it. */
    @SuppressWarnings("unchecked")
    static List<String> cells(String column) {
        return (List<String>) browser.executeScript("""
                const out = [];
                for (const table of document.querySelectorAll('table')) {
                  const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
                  const i = heads.indexOf(arguments[0]);
                  if (i < 0) continue;
                  for (const row of table.querySelectorAll('tbody tr')) {
                    if (row.children[i]) out.push(row.children[i].innerText.trim());
                  }
                }
                return out;""", column);
    }

    /** The value of an attribute in the Attributes tab of the selected MBean, "" when it is not shown. */
    static String attribute(String name) {
        List<String> names = cells("Attribute");
        List<String> values = cells("Value");
        int row = names.indexOf(name);
        return row >= 0 && row < values.size() ? values.get(row) : "";
    }

    static String text(By by) {
        return browser.findElement(by).getText();
    }
}
