package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
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
import java.util.Map;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/**
 * A real Prometheus server (Debian's {@code prometheus} package, {@code /usr/bin/prometheus}) as a child process:
 * a scrape config of its own, a temporary TSDB, loopback only, and its HTTP API read with java.net.http.
 *
 * The config is YAML written with JSON strings and maps (JSON is YAML), so no value needs escaping rules of its own.
 *
 * <p>A missing binary fails the test in CI (env {@code CI=true} or {@code -Dcapo.it.requirePrometheus=true}, which
 * .ci/run sets) and skips it elsewhere.
 */
public final class PrometheusServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** One scrape target: host:port and the labels a Kubernetes service discovery would attach. */
    public record Target(String address, Map<String, String> labels) {
    }

    private final Process process;
    private final URI base;
    private final Path log;

    private PrometheusServer(Process process, URI base, Path log) {
        this.process = process;
        this.base = base;
        this.log = log;
    }

    /** The prometheus binary: {@code -Dcapo.it.prometheus} when set (only that), else /usr/bin/prometheus, else the PATH. */
    public static Path requireBinary() {
        String configured = System.getProperty("capo.it.prometheus");
        List<Path> candidates = new ArrayList<>();
        if (configured != null && !configured.isBlank()) {
            candidates.add(Path.of(configured));
        } else {
            candidates.add(Path.of("/usr/bin/prometheus"));
            String path = System.getenv("PATH");
            if (path != null) {
                Stream.of(path.split(File.pathSeparator)).map(dir -> Path.of(dir, "prometheus"))
                        .forEach(candidates::add);
            }
        }
        for (Path candidate : candidates) {
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        String message = "prometheus not found in " + candidates + ": apt-get install prometheus (Debian's package "
                + "brings the server and promtool), or -Dcapo.it.prometheus=<path>";
        if ("true".equalsIgnoreCase(System.getenv("CI")) || Boolean.getBoolean("capo.it.requirePrometheus")) {
            throw new IllegalStateException(message + " (required: CI=true or -Dcapo.it.requirePrometheus=true)");
        }
        // a class aborted in @BeforeAll shows in Maven's summary as "Tests run: 0", without the reason: say it here
        System.err.println("[capo-it] skipped, " + message);
        Assumptions.abort(message);
        return null;
    }

    /**
     * Starts Prometheus scraping {@code metricsPath} of the targets every {@code interval} under job {@code job},
     * evaluating the rule files at the same interval; returns once it is ready.
     */
    public static PrometheusServer start(Path dir, String job, String metricsPath, Duration interval,
                                         List<Target> targets, List<Path> ruleFiles) throws Exception {
        Path binary = requireBinary();
        Files.createDirectories(dir);
        StringBuilder config = new StringBuilder()
                .append("global:\n")
                .append("  scrape_interval: ").append(interval.toMillis()).append("ms\n")
                .append("  scrape_timeout: ").append(interval.toMillis()).append("ms\n")
                .append("  evaluation_interval: ").append(interval.toMillis()).append("ms\n")
                .append("rule_files:\n");
        for (Path ruleFile : ruleFiles) {
            config.append("  - ").append(JSON.writeValueAsString(ruleFile.toString())).append('\n');
        }
        config.append("scrape_configs:\n")
                .append("  - job_name: ").append(job).append('\n')
                .append("    metrics_path: ").append(metricsPath).append('\n')
                .append("    static_configs:\n");
        for (Target target : targets) {
            config.append("      - targets: [").append(JSON.writeValueAsString(target.address())).append("]\n")
                    .append("        labels: ").append(JSON.writeValueAsString(target.labels())).append('\n');
        }
        Path configFile = Files.writeString(dir.resolve("prometheus.yml"), config);
        int port = freePort();
        Path log = dir.resolve("prometheus.log");
        Process process = new ProcessBuilder(binary.toString(),
                "--config.file=" + configFile,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PrometheusServer server = new PrometheusServer(process, URI.create("http://127.0.0.1:" + port), log);
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("prometheus exited with " + process.exitValue() + ": "
                            + server.logText());
                }
                return server.ready();
            });
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private boolean ready() {
        try {
            return HTTP.send(HttpRequest.newBuilder(base.resolve("/-/ready")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Prometheus' own log (warnings and errors), for failure messages. */
    public String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The answer of an API call, status "success" or "error" with errorType/error. */
    public JsonNode api(String path, Map<String, String> parameters) {
        StringBuilder query = new StringBuilder();
        parameters.forEach((k, v) -> query.append(query.length() == 0 ? "?" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(base.resolve(path + query))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new IllegalStateException("GET " + path + query + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public JsonNode api(String path) {
        return api(path, Map.of());
    }

    /** An instant query, evaluated now: the whole answer (check "status" before "data"). */
    public JsonNode query(String promql) {
        return api("/api/v1/query", Map.of("query", promql));
    }

    /** The result vector of an instant query that must succeed. */
    public JsonNode vector(String promql) {
        JsonNode answer = query(promql);
        if (!"success".equals(answer.path("status").asText())) {
            throw new IllegalStateException(promql + ": " + answer);
        }
        return answer.path("data").path("result");
    }

    /** The value of an instant query returning one sample (scalar or one-element vector), NaN when empty. */
    public double value(String promql) {
        JsonNode result = vector(promql);
        if (result.isArray()) {
            return result.isEmpty() ? Double.NaN : result.get(0).path("value").get(1).asDouble();
        }
        return result.get(1).asDouble();
    }

    /** Names of the alerts in state firing now. */
    public List<String> firing() {
        List<String> names = new ArrayList<>();
        for (JsonNode alert : api("/api/v1/alerts").path("data").path("alerts")) {
            if ("firing".equals(alert.path("state").asText())) {
                names.add(alert.path("labels").path("alertname").asText());
            }
        }
        return names;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
