package io.capo.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One Capo replica as its own JVM, started exactly as the image starts it ({@code java -jar capo.jar}), with
 * {@code KUBECONFIG} pointing at the benchmark's API server and the JVM options of the Helm chart. The container's
 * memory limit (768Mi) is emulated with {@code -XX:MaxRAM}, and the collector a JVM picks in such a container
 * (Serial: less than 1792 MB is not a "server class machine") is named explicitly, so that heap and RSS behave as
 * in the cluster.
 */
final class CapoProcess implements AutoCloseable {

    /** The chart's javaToolOptions plus the container limit; override with BENCH_CAPO_JAVA_OPTS. */
    static final String DEFAULT_JAVA_OPTS = "-XX:MaxRAM=768m -XX:+UseSerialGC -XX:MaxRAMPercentage=50 "
            + "-XX:MaxMetaspaceSize=160m -XX:ReservedCodeCacheSize=64m -XX:MaxDirectMemorySize=64m -Xss512k "
            + "-XX:+ExitOnOutOfMemoryError";

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    private final String identity;
    private final Process process;
    private final int webhookPort;
    private final int managementPort;
    private final long startNanos;
    private final Path log;
    private long readyMillis = -1;

    private CapoProcess(String identity, Process process, int webhookPort, int managementPort, long startNanos,
                        Path log) {
        this.identity = identity;
        this.process = process;
        this.webhookPort = webhookPort;
        this.managementPort = managementPort;
        this.startNanos = startNanos;
        this.log = log;
    }

    static CapoProcess start(Path jar, Path kubeconfig, Path workDir, String identity, Map<String, String> settings,
                             String extraJavaOpts) throws IOException {
        int webhookPort = freePort();
        int managementPort = freePort();
        Map<String, String> all = new LinkedHashMap<>(settings);
        all.put("webhook.port", Integer.toString(webhookPort));
        all.put("metrics.bindAddress", ":" + managementPort);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String opts = System.getenv().getOrDefault("BENCH_CAPO_JAVA_OPTS", DEFAULT_JAVA_OPTS) + " " + extraJavaOpts;
        for (String opt : opts.trim().split("\\s+")) {
            if (!opt.isEmpty()) {
                command.add(opt);
            }
        }
        Path tmp = Files.createDirectories(workDir.resolve(identity + "-tmp"));
        command.add("-Djava.io.tmpdir=" + tmp);
        command.add("-Dvertx.cacheDirBase=" + tmp.resolve("vertx-cache"));
        command.add("-Dcapo.identity=" + identity);
        all.forEach((k, v) -> command.add("-Dcapo.settings." + k + "=" + v));
        command.add("-jar");
        command.add(jar.toString());
        Path log = workDir.resolve(identity + ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("KUBECONFIG", kubeconfig.toString());
        builder.environment().put("HOSTNAME", identity);
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        long start = System.nanoTime();
        Process process = builder.start();
        return new CapoProcess(identity, process, webhookPort, managementPort, start, log);
    }

    /** Waits until /observe/health/ready answers 200; returns milliseconds from process start. */
    long awaitReady(Duration atMost) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Capo " + identity + " exited with " + process.exitValue() + "; see "
                        + log);
            }
            try {
                HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + managementPort + "/observe/health/ready")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    readyMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
                    return readyMillis;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(25);
        }
        throw new IllegalStateException("Capo " + identity + " not ready within " + atMost + "; see " + log);
    }

    String identity() {
        return identity;
    }

    long readyMillis() {
        return readyMillis;
    }

    int webhookPort() {
        return webhookPort;
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    PromText metrics() {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort
                    + "/observe/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            return PromText.parse(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the metrics of " + identity + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** VmRSS in bytes, from /proc. */
    long rssBytes() {
        return procStatus("VmRSS:");
    }

    /** VmHWM (peak RSS since the process started) in bytes. */
    long peakRssBytes() {
        return procStatus("VmHWM:");
    }

    /** User + system CPU time of the whole process (all threads, GC and JIT included), in ms, from /proc. */
    long cpuMillis() {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return ticks * 1000 / 100; // USER_HZ is 100 on Linux
        } catch (IOException e) {
            return -1;
        }
    }

    /** CPU ms by thread name (digits folded, so that pools add up), from /proc/<pid>/task. */
    Map<String, Long> cpuByThread() {
        Map<String, Long> out = new java.util.TreeMap<>();
        Path tasks = Path.of("/proc", Long.toString(process.pid()), "task");
        try (var dirs = Files.list(tasks)) {
            for (Path task : (Iterable<Path>) dirs::iterator) {
                try {
                    String name = Files.readString(task.resolve("comm")).trim().replaceAll("[0-9]+", "#");
                    String stat = Files.readString(task.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    long ms = (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
                    out.merge(name, ms, Long::sum);
                } catch (IOException | RuntimeException gone) {
                    // the thread ended
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    private long procStatus(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(25, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
