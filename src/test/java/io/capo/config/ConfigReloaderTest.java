package io.capo.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigReloaderTest {

    private static final Duration LIMIT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private final CapoConfigLoader loader = new CapoConfigLoader();

    /** Replaces the file in one step, as the kubelet does, so no poll can see it half written. */
    private void replace(Path file, String content) throws IOException {
        Path tmp = Files.writeString(dir.resolve("next.tmp"), content);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void validChangeIsAppliedAndInvalidChangeIsRefused() throws IOException {
        Path file = Files.writeString(dir.resolve("capo_config.yaml"), CapoConfigLoaderTest.GO_CAPO_FILE);
        SettingsHolder holder = new SettingsHolder(loader.load(file, Map.of()).settings());
        List<CapoSettings> seen = new CopyOnWriteArrayList<>();
        holder.onChange(seen::add);

        try (FileWatcher watcher = new FileWatcher(20);
             ConfigReloader reloader = new ConfigReloader(file, Map.of("staleGrace", "7m"), loader, holder,
                     watcher)) {
            reloader.start();
            watcher.start();

            replace(file, CapoConfigLoaderTest.GO_CAPO_FILE
                    .replace("ipReserveMaxCount: 400", "ipReserveMaxCount: 500"));
            await().atMost(LIMIT).until(() -> holder.current().ipReserveMaxCount() == 500);
            assertThat(holder.current().staleGrace()).isEqualTo(Duration.ofMinutes(7));
            assertThat(reloader.lastError()).isEmpty();

            replace(file, CapoConfigLoaderTest.GO_CAPO_FILE.replace("ipReserveTime: 40m", "ipReserveTime: forty"));
            await().atMost(LIMIT).until(() -> reloader.lastError().isPresent());
            assertThat(reloader.lastError()).hasValue(
                    "capo_config.yaml: ipReserveTime: \"forty\" is not a duration (e.g. 40m, 5s)");
            assertThat(holder.current().ipReserveMaxCount()).isEqualTo(500);
            assertThat(holder.current().ipReserveTime()).isEqualTo(Duration.ofMinutes(40));
            assertThat(seen).singleElement().extracting(CapoSettings::ipReserveMaxCount).isEqualTo(500);

            replace(file, CapoConfigLoaderTest.GO_CAPO_FILE.replace("ipReserveTime: 40m", "ipReserveTime: 20m"));
            await().atMost(LIMIT).until(() -> holder.current().ipReserveTime().equals(Duration.ofMinutes(20)));
            assertThat(reloader.lastError()).isEmpty();
            assertThat(holder.current().ipReserveMaxCount()).isEqualTo(400);
        }
    }

    @Test
    void reloadReportsWhetherTheFileWasAccepted() throws IOException {
        Path file = Files.writeString(dir.resolve("capo_config.yaml"), "ipReserveMaxCount: 1\n");
        SettingsHolder holder = new SettingsHolder(CapoSettings.defaults());
        try (FileWatcher watcher = new FileWatcher(1000);
             ConfigReloader reloader = new ConfigReloader(file, Map.of(), loader, holder, watcher)) {
            assertThat(reloader.reload()).isTrue();
            assertThat(holder.current().ipReserveMaxCount()).isEqualTo(1);

            Files.delete(file);
            assertThat(reloader.reload()).isFalse();
            assertThat(reloader.lastError()).hasValueSatisfying(m -> assertThat(m).contains("cannot be read"));
            assertThat(holder.current().ipReserveMaxCount()).isEqualTo(1);
        }
    }
}
