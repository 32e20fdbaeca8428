package io.capo.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Time from process start to Ready for one replica alone, started several times one after the other: with the
 * chart's JVM options, and with an AppCDS archive as the image builds it with {@code --build-arg APPCDS=true}
 * (the archive is written by a training start first, here against the benchmark's API server).
 */
final class Startup {

    record Result(String variant, List<Long> readyMs, long rssIdle) {
        long median() {
            List<Long> sorted = new ArrayList<>(readyMs);
            Collections.sort(sorted);
            return sorted.get(sorted.size() / 2);
        }
    }

    private final BenchCluster cluster;
    private final Path workDir;

    Startup(BenchCluster cluster, Path workDir) {
        this.cluster = cluster;
        this.workDir = workDir;
    }

    List<Result> run(int starts) throws Exception {
        List<Result> results = new ArrayList<>();
        results.add(measure("chart options", starts, ""));
        Path archive = workDir.resolve("capo.jsa");
        Files.deleteIfExists(archive);
        // training start: the JVM archives the classes it loaded when it exits
        CapoProcess training = cluster.startReplicas(1, Map.of(), "-XX:ArchiveClassesAtExit=" + archive).get(0);
        BenchCluster.sleep(3000);
        cluster.stopReplicas();
        if (Files.isRegularFile(archive)) {
            results.add(measure("AppCDS archive", starts, "-XX:SharedArchiveFile=" + archive + " -Xshare:auto"));
        } else {
            System.out.println("no AppCDS archive was written by " + training.identity() + "; see " + training.log());
        }
        return results;
    }

    private Result measure(String variant, int starts, String extraOpts) throws Exception {
        List<Long> ready = new ArrayList<>();
        long rss = -1;
        for (int i = 0; i < starts; i++) {
            BenchCluster.sleep(2000);
            CapoProcess p = cluster.startReplicas(1, Map.of(), extraOpts).get(0);
            ready.add(p.readyMillis());
            if (i == starts - 1) {
                BenchCluster.sleep(5000);
                rss = p.rssBytes();
            }
            cluster.stopReplicas();
        }
        return new Result(variant, ready, rss);
    }

    static Duration atMost() {
        return Duration.ofMinutes(2);
    }
}
