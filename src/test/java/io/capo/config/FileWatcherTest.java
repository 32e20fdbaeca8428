package io.capo.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileWatcherTest {

    private static final Duration QUIET = Duration.ofMillis(300);
    private static final Duration LIMIT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private FileWatcher watcher;

    @BeforeEach
    void startWatcher() {
        watcher = new FileWatcher(20);
        watcher.start();
    }

    @AfterEach
    void closeWatcher() {
        watcher.close();
    }

    /** The kubelet's ConfigMap volume layout: name -> ..data/name, ..data -> ..timestamp. */
    private void kubeletVolume(String stamp, String content) throws IOException {
        Path data = Files.createDirectory(dir.resolve("..2024_01_01_00_00_00." + stamp));
        Files.writeString(data.resolve("capo_config.yaml"), content);
        Files.createSymbolicLink(dir.resolve("..data"), data.getFileName());
        Files.createSymbolicLink(dir.resolve("capo_config.yaml"), Path.of("..data", "capo_config.yaml"));
    }

    /** What the kubelet does on an update: new timestamped dir, ..data_tmp link, atomic rename over ..data. */
    private void kubeletSwap(String stamp, String content) throws IOException {
        Path old = Files.readSymbolicLink(dir.resolve("..data"));
        Path data = Files.createDirectory(dir.resolve("..2024_01_02_00_00_00." + stamp));
        Files.writeString(data.resolve("capo_config.yaml"), content);
        Files.createSymbolicLink(dir.resolve("..data_tmp"), data.getFileName());
        Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
        Files.delete(dir.resolve(old).resolve("capo_config.yaml"));
        Files.delete(dir.resolve(old));
    }

    @Test
    void kubeletSymlinkSwapFiresOnceForTheFileAndOnceForTheDirectory() throws IOException {
        kubeletVolume("1", "ipReserveTime: 40m\n");
        AtomicInteger fileChanges = new AtomicInteger();
        List<Path> dirChanges = new CopyOnWriteArrayList<>();
        watcher.watch(dir.resolve("capo_config.yaml"), p -> fileChanges.incrementAndGet());
        watcher.watch(dir, dirChanges::add);

        kubeletSwap("2", "ipReserveTime: 20m\n");

        await().atMost(LIMIT).until(() -> fileChanges.get() == 1 && dirChanges.size() == 1);
        await().during(QUIET).atMost(LIMIT).until(() -> fileChanges.get() == 1 && dirChanges.size() == 1);
        assertThat(dirChanges).containsExactly(dir);
    }

    @Test
    void kubeletSwapWithSameContentDoesNotFire() throws IOException {
        kubeletVolume("1", "same\n");
        AtomicInteger changes = new AtomicInteger();
        watcher.watch(dir, p -> changes.incrementAndGet());
        watcher.watch(dir.resolve("capo_config.yaml"), p -> changes.incrementAndGet());

        kubeletSwap("2", "same\n");
        Files.createDirectory(dir.resolve("..2024_03_03_00_00_00.3"));
        Files.writeString(dir.resolve("..2024_03_03_00_00_00.3").resolve("capo_config.yaml"), "other\n");

        await().during(QUIET).atMost(LIMIT).until(() -> changes.get() == 0);
    }

    @Test
    void plainFileEdit() throws IOException {
        Path file = Files.writeString(dir.resolve("plain.yaml"), "a: 1\n");
        List<Path> changes = new CopyOnWriteArrayList<>();
        watcher.watch(file, changes::add);

        Files.writeString(file, "a: 2\n");

        await().atMost(LIMIT).until(() -> changes.size() == 1);
        await().during(QUIET).atMost(LIMIT).until(() -> changes.size() == 1);
        assertThat(changes).containsExactly(file);
    }

    @Test
    void missingPathFiresWhenItAppearsAndWhenItGoes() throws IOException {
        Path file = dir.resolve("later.yaml");
        AtomicInteger changes = new AtomicInteger();
        watcher.watch(file, p -> changes.incrementAndGet());

        Files.writeString(file, "x\n");
        await().atMost(LIMIT).until(() -> changes.get() == 1);

        Files.delete(file);
        await().atMost(LIMIT).until(() -> changes.get() == 2);
    }

    @Test
    void throwingCallbackKeepsTheWatcherAlive() throws IOException {
        Path file = Files.writeString(dir.resolve("f.txt"), "1");
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger otherCalls = new AtomicInteger();
        watcher.watch(file, p -> {
            calls.incrementAndGet();
            throw new IllegalStateException("boom");
        });
        watcher.watch(file, p -> otherCalls.incrementAndGet());

        Files.writeString(file, "2");
        await().atMost(LIMIT).until(() -> calls.get() == 1 && otherCalls.get() == 1);
        Files.writeString(file, "3");
        await().atMost(LIMIT).until(() -> calls.get() == 2 && otherCalls.get() == 2);
    }

    @Test
    void cancelledWatchIsNotCalled() throws IOException {
        Path file = Files.writeString(dir.resolve("f.txt"), "1");
        AtomicInteger cancelled = new AtomicInteger();
        AtomicInteger kept = new AtomicInteger();
        Registration registration = watcher.watch(file, p -> cancelled.incrementAndGet());
        watcher.watch(file, p -> kept.incrementAndGet());

        registration.cancel();
        Files.writeString(file, "2");

        await().atMost(LIMIT).until(() -> kept.get() == 1);
        assertThat(cancelled).hasValue(0);
    }

    @Test
    void directoryDigestCoversNamesContentsAndSubdirectoriesButNotDotDotEntries() throws IOException {
        Path sub = Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("a"), "1");
        String before = FileWatcher.digest(dir);

        Files.createDirectory(dir.resolve("..hidden"));
        Files.writeString(dir.resolve("..hidden").resolve("x"), "ignored");
        assertThat(FileWatcher.digest(dir)).isEqualTo(before);

        Files.writeString(sub.resolve("b"), "2");
        String withNested = FileWatcher.digest(dir);
        assertThat(withNested).isNotEqualTo(before);

        Files.move(sub.resolve("b"), sub.resolve("c"));
        assertThat(FileWatcher.digest(dir)).isNotEqualTo(withNested);
        assertThat(FileWatcher.digest(dir.resolve("nothing"))).isEqualTo("absent");
    }

    @Test
    void watcherThreadIsANamedDaemon() throws IOException {
        Path file = Files.writeString(dir.resolve("f.txt"), "1");
        List<Thread> threads = new CopyOnWriteArrayList<>();
        watcher.watch(file, p -> threads.add(Thread.currentThread()));
        Files.writeString(file, "2");

        await().atMost(LIMIT).until(() -> threads.size() == 1);
        assertThat(threads.get(0).getName()).isEqualTo("capo-file-watcher");
        assertThat(threads.get(0).isDaemon()).isTrue();
    }
}
