package io.capo.config;

import io.capo.testing.ConfigMapVolume;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;

/** The watcher notices a kubelet-style ConfigMap update of a routes directory. */
class ConfigMapVolumeWatchTest {

    @Test
    void directoryUpdateThroughDataSwapIsSeen(@TempDir Path dir) throws Exception {
        ConfigMapVolume volume = new ConfigMapVolume(dir.resolve("routes"), Map.of("a.yaml", "one", "b.yaml", "two"));
        AtomicInteger changes = new AtomicInteger();
        try (FileWatcher watcher = new FileWatcher(100)) {
            watcher.watch(volume.dir(), p -> changes.incrementAndGet());
            watcher.start();
            await().during(Duration.ofMillis(500)).until(() -> changes.get() == 0);
            volume.update(Map.of("a.yaml", "one", "b.yaml", "three"));
            await().atMost(Duration.ofSeconds(5)).until(() -> changes.get() == 1);
        }
    }
}
