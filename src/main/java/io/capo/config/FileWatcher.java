package io.capo.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls files and directories and calls back when their content changes.
 *
 * <p>A file's digest is the SHA-256 of its content; a directory's covers the names and contents of every regular
 * file below it, following symlinks but skipping entries whose name starts with {@code ..}. That makes a
 * Kubernetes ConfigMap or Secret volume update (the kubelet swapping the {@code ..data} symlink) one change, while
 * the kubelet's own timestamped directories are not seen twice. A missing path has the digest "absent".
 *
 * <p>A new digest must be seen on two polls in a row before the callback runs, so a file caught half written
 * does not fire; a change is reported one to two intervals after it happened.
 */
public final class FileWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FileWatcher.class);
    private static final String ABSENT = "absent";
    private static final int MAX_DEPTH = 8;

    private final long pollIntervalMillis;
    private final ScheduledExecutorService executor;
    private final List<Watch> watches = new CopyOnWriteArrayList<>();
    private final AtomicBoolean started = new AtomicBoolean();

    public FileWatcher(long pollIntervalMillis) {
        if (pollIntervalMillis <= 0) {
            throw new IllegalArgumentException("pollIntervalMillis must be > 0, got " + pollIntervalMillis);
        }
        this.pollIntervalMillis = pollIntervalMillis;
        this.executor = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "capo-file-watcher");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Watches a file or directory from its current content on; the callback gets the watched path. */
    public Registration watch(Path path, Consumer<Path> onChange) {
        Watch watch = new Watch(Objects.requireNonNull(path, "path"), Objects.requireNonNull(onChange, "onChange"));
        watches.add(watch);
        LOG.debug("watching {} every {} ms", path, pollIntervalMillis);
        return watch;
    }

    public void start() {
        if (started.compareAndSet(false, true)) {
            executor.scheduleWithFixedDelay(this::pollAll, pollIntervalMillis, pollIntervalMillis,
                    TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
        watches.clear();
    }

    private void pollAll() {
        for (Watch watch : watches) {
            try {
                watch.poll();
            } catch (RuntimeException e) {
                LOG.error("polling {} failed", watch.path, e);
            }
        }
    }

    static String digest(Path path) throws IOException {
        if (!Files.exists(path)) {
            return ABSENT;
        }
        MessageDigest sha = sha256();
        if (Files.isDirectory(path)) {
            sha.update((byte) 'D');
            digestDirectory(path, "", sha, 0);
        } else {
            sha.update((byte) 'F');
            sha.update(contentHash(path));
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void digestDirectory(Path dir, String prefix, MessageDigest sha, int depth) throws IOException {
        if (depth >= MAX_DEPTH) {
            LOG.debug("not descending below {}, too deep (symlink loop?)", dir);
            return;
        }
        List<Path> entries;
        try (Stream<Path> listing = Files.list(dir)) {
            entries = listing.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
        for (Path entry : entries) {
            String name = entry.getFileName().toString();
            if (name.startsWith("..")) {
                continue;
            }
            String relative = prefix + name;
            if (Files.isDirectory(entry)) {
                sha.update(("d:" + relative + "\0").getBytes(StandardCharsets.UTF_8));
                digestDirectory(entry, relative + "/", sha, depth + 1);
            } else if (Files.isRegularFile(entry)) {
                sha.update(("f:" + relative + "\0").getBytes(StandardCharsets.UTF_8));
                sha.update(contentHash(entry));
            } else {
                sha.update(("o:" + relative + "\0").getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private static byte[] contentHash(Path file) throws IOException {
        MessageDigest sha = sha256();
        byte[] buffer = new byte[8192];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                sha.update(buffer, 0, n);
            }
        }
        return sha.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private final class Watch implements Registration {

        private final Path path;
        private final Consumer<Path> onChange;
        // only the watcher thread touches these after construction
        private String reported;
        private String pending;

        Watch(Path path, Consumer<Path> onChange) {
            this.path = path;
            this.onChange = onChange;
            this.reported = digestOrNull(path);
        }

        void poll() {
            String now = digestOrNull(path);
            if (now == null) {
                return;
            }
            if (reported == null || now.equals(reported)) {
                reported = now;
                pending = null;
                return;
            }
            if (!now.equals(pending)) {
                pending = now;
                return;
            }
            reported = now;
            pending = null;
            LOG.debug("{} changed", path);
            try {
                onChange.accept(path);
            } catch (RuntimeException e) {
                LOG.error("callback for the change of {} failed", path, e);
            }
        }

        private String digestOrNull(Path target) {
            try {
                return digest(target);
            } catch (IOException | UncheckedIOException e) {
                // e.g. the kubelet removed a file between listing and reading; try again next poll
                LOG.debug("cannot digest {} now: {}", target, e.toString());
                return null;
            }
        }

        @Override
        public void cancel() {
            watches.remove(this);
        }
    }
}
