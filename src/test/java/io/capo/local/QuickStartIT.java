package io.capo.local;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * README.md's quick start, exactly as written: runs the README's run command ({@code scripts/run-local}:
 * provisioning, Maven build, a real kube-apiserver + etcd with the CRDs and the webhook registered, Capo), then
 * every shell block of the quick-start section in order with bash, from a directory laid out like the repository
 * root ({@code target/local/kubeconfig} is where the run command wrote it), and compares each block's output with
 * the {@code text} block the README shows after it. So the reservation appearing on deletion and its release
 * after {@code ipReserveTime} are checked through the README itself, and the README cannot rot. Finally it stops
 * the run command with SIGINT, as Ctrl-C does, and checks that Capo, the API server and etcd are gone.
 *
 * <p>The run command uses the default ports (9443, 8080) when they are free; otherwise other ports, and the
 * README's {@code localhost:8080} is replaced by the management port in the steps (logged).
 */
class QuickStartIT {

    private static final Duration READY_WITHIN = Duration.ofMinutes(10);
    private static final Duration STEPS_WITHIN = Duration.ofMinutes(6);
    private static final Duration STOP_WITHIN = Duration.ofSeconds(60);
    private static final String STEP_MARKER = "@@quickstart-step ";
    private static final String KUBECTL = System.getProperty("user.home")
            + "/.kubeapitest/k8s/1.34.12-linux-amd64/kubectl";

    @Test
    @Timeout(value = 25, unit = TimeUnit.MINUTES)
    void readmeQuickStartRunsAsWritten(@TempDir Path work) throws Exception {
        Path root = Path.of("").toAbsolutePath();
        Path readmeFile = root.resolve("README.md");
        assertThat(readmeFile).as("run from the repository root").exists();
        ReadmeQuickStart quickStart = ReadmeQuickStart.parse(Files.readString(readmeFile));
        assertThat(quickStart.runCommand()).isEqualTo("scripts/run-local");

        Map<String, String> env = new LinkedHashMap<>();
        env.put("CAPO_LOCAL_DIR", work.resolve("target/local").toString());
        int managementPort = 8080;
        if (!free(8080) || !free(9443)) {
            managementPort = freePort();
            int webhookPort = freePort();
            env.put("CAPO_LOCAL_JAVA_OPTS", "-Dcapo.settings.webhook.port=" + webhookPort
                    + " -Dcapo.settings.metrics.bindAddress=:" + managementPort);
            System.out.printf("QuickStartIT: 8080 or 9443 is taken, using webhook port %d and management port %d;"
                    + " localhost:8080 in the README's steps becomes localhost:%d%n", webhookPort, managementPort,
                    managementPort);
        }

        Path runLog = work.resolve("run-local.log");
        ProcessBuilder runBuilder = new ProcessBuilder("bash", "-c", quickStart.runCommand()).directory(root.toFile())
                .redirectErrorStream(true).redirectOutput(runLog.toFile());
        runBuilder.environment().remove("KUBECONFIG");
        runBuilder.environment().putAll(env);
        Process run = runBuilder.start();
        List<ProcessHandle> started = new ArrayList<>();
        try {
            awaitReady(run, runLog);
            started.addAll(run.descendants().toList());
            assertThat(Path.of(KUBECTL)).as("kubectl provisioned where the README's PATH points").isExecutable();
            assertThat(work.resolve("target/local/kubeconfig")).exists();

            String steps = script(quickStart.steps(), managementPort);
            Files.writeString(work.resolve("quickstart.sh"), steps);
            Path stdout = work.resolve("quickstart.out");
            Path stderr = work.resolve("quickstart.err");
            ProcessBuilder stepsBuilder = new ProcessBuilder("bash", "quickstart.sh").directory(work.toFile())
                    .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
            stepsBuilder.environment().remove("KUBECONFIG");
            Process stepsProcess = stepsBuilder.start();
            boolean finished = stepsProcess.waitFor(STEPS_WITHIN.toSeconds(), TimeUnit.SECONDS);
            if (!finished) {
                stepsProcess.destroyForcibly();
            }
            String out = Files.readString(stdout);
            String err = Files.readString(stderr);
            System.out.println("QuickStartIT: output of the README's steps\n" + out + "--- stderr ---\n" + err);
            assertThat(finished).as("steps finished within " + STEPS_WITHIN + "\n" + out + err).isTrue();
            assertThat(stepsProcess.exitValue()).as("steps' exit code\n" + out + err + "\n" + tail(runLog)).isZero();

            List<String> outputs = split(out, quickStart.steps().size());
            for (int i = 0; i < quickStart.steps().size(); i++) {
                ReadmeQuickStart.Step step = quickStart.steps().get(i);
                if (step.expected() == null) {
                    continue;
                }
                String mismatch = ReadmeQuickStart.mismatch(step.expected(), outputs.get(i));
                if (mismatch != null) {
                    fail("README quick-start block %d printed what the README does not show (%s)%n--- block ---%n%s"
                            + "--- README shows ---%n%s--- printed ---%n%s%n--- run-local ---%n%s", i + 1, mismatch,
                            step.script(), step.expected(), outputs.get(i), tail(runLog));
                }
            }
            String log = Files.readString(runLog);
            assertThat(log).contains("parked IP 10.0.0.7/32 of pod demo/redis-0 (delete)")
                    .contains("released IP 10.0.0.7 of pod demo/redis-0 (ttl)");

            // Ctrl-C
            signal("INT", run.toHandle());
            run.descendants().forEach(p -> signal("INT", p));
            assertThat(run.waitFor(STOP_WITHIN.toSeconds(), TimeUnit.SECONDS)).as("run-local stops on Ctrl-C").isTrue();
            for (ProcessHandle child : started) {
                waitGone(child);
                assertThat(child.isAlive()).as("%s stopped with run-local", child.info().command().orElse("?"))
                        .isFalse();
            }
        } finally {
            run.descendants().forEach(ProcessHandle::destroyForcibly);
            run.destroyForcibly();
            started.forEach(ProcessHandle::destroyForcibly);
        }
    }

    private static void awaitReady(Process run, Path log) throws Exception {
        long deadline = System.nanoTime() + READY_WITHIN.toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            if (text.contains(LocalCapo.READY_LINE)) {
                return;
            }
            if (!run.isAlive()) {
                fail("the README's run command ended (exit code %d) before Capo was ready:%n%s", run.exitValue(),
                        tail(log));
            }
            Thread.sleep(500);
        }
        fail("Capo was not ready within %s:%n%s", READY_WITHIN, tail(log));
    }

    /** One bash script: the steps in order, each after a marker line, stopping at the first failing command. */
    static String script(List<ReadmeQuickStart.Step> steps, int managementPort) {
        StringBuilder script = new StringBuilder("set -euo pipefail\n");
        for (int i = 0; i < steps.size(); i++) {
            String body = steps.get(i).script();
            if (managementPort != 8080) {
                body = body.replace("localhost:8080", "localhost:" + managementPort);
            }
            script.append("echo '").append(STEP_MARKER).append(i).append("'\n").append(body);
            if (!body.endsWith("\n")) {
                script.append('\n');
            }
        }
        return script.toString();
    }

    static List<String> split(String out, int count) {
        List<String> outputs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String marker = STEP_MARKER + i + "\n";
            int start = out.indexOf(marker);
            if (start < 0) {
                outputs.add("");
                continue;
            }
            start += marker.length();
            int end = out.indexOf(STEP_MARKER + (i + 1) + "\n", start);
            outputs.add(end < 0 ? out.substring(start) : out.substring(start, end));
        }
        return outputs;
    }

    private static void signal(String signal, ProcessHandle process) {
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start()
                    .waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void waitGone(ProcessHandle process) throws InterruptedException {
        try {
            process.onExit().get(STOP_WITHIN.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // still alive after STOP_WITHIN: the caller's assertion reports it
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 150), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static boolean free(int port) {
        try (ServerSocket socket = new ServerSocket(port)) {
            socket.setReuseAddress(true);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
