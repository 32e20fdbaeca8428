package io.capo.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A directory laid out as the kubelet lays out a ConfigMap volume: each file is a symlink into
 * {@code ..data}, which points at a timestamped directory and is swapped atomically on update.
 */
public final class ConfigMapVolume {

    private static final AtomicInteger GENERATION = new AtomicInteger();
    private final Path dir;

    public ConfigMapVolume(Path dir, Map<String, String> files) throws IOException {
        this.dir = Files.createDirectories(dir);
        Path data = writeGeneration(files);
        Files.createSymbolicLink(dir.resolve("..data"), data.getFileName());
        for (String name : files.keySet()) {
            Files.createSymbolicLink(dir.resolve(name), Path.of("..data", name));
        }
    }

    public Path dir() {
        return dir;
    }

    /** Replaces the whole content as the kubelet does: new directory, new symlink, atomic rename. */
    public void update(Map<String, String> files) throws IOException {
        Path data = writeGeneration(files);
        Path tmp = dir.resolve("..data_tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, data.getFileName());
        Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        for (String name : files.keySet()) {
            Path link = dir.resolve(name);
            if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, Path.of("..data", name));
            }
        }
    }

    private Path writeGeneration(Map<String, String> files) throws IOException {
        Path data = Files.createDirectory(dir.resolve("..2026_11_26_00_00_00." + GENERATION.incrementAndGet()));
        for (Map.Entry<String, String> file : files.entrySet()) {
            Files.writeString(data.resolve(file.getKey()), file.getValue());
        }
        return data;
    }
}
