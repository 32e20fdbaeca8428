package io.capo.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time of the kube-apiserver and etcd this JVM started (kube-api-test runs them as child processes). */
final class ApiServerProcesses {

    private ApiServerProcesses() {
    }

    /** User + system CPU of kube-apiserver and etcd, in ms. */
    static long cpuMillis() {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().command().map(c -> c.endsWith("kube-apiserver") || c.endsWith("etcd"))
                        .orElse(false))
                .mapToLong(p -> cpuMillis(p.pid())).sum();
    }

    static long cpuMillis(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10; // USER_HZ 100
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The 1-, 5- and 15-minute load averages. */
    static double[] loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return new double[]{Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
        } catch (IOException e) {
            return new double[]{Double.NaN, Double.NaN, Double.NaN};
        }
    }
}
