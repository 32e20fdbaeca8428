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
    private final List<String> refusals = new CopyOnWriteArrayList<>();

    /** Replaces the file in one step, as the kubelet does, so no poll can see it half written. */
    private void replace(Path file, String content) throws IOException {
        Path tmp = Files.writeString(dir.resolve("next.tmp"), content);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void validChangeIsAppliedAndInvalidChangeIsRefused() throws IOException {
        Path file = Files.writeString(dir.resolve("capo_config.yaml"), CapoConfigLoaderTest.GO_CAPO_FILE);
        LoadedConfig running = loader.load(file, Map.of());
        SettingsHolder holder = new SettingsHolder(running.settings());
        List<CapoSettings> seen = new CopyOnWriteArrayList<>();
        holder.onChange(seen::add);

        try (FileWatcher watcher = new FileWatcher(20);
             ConfigReloader reloader = new ConfigReloader(file, Map.of("staleGrace", "7m"), loader, holder,
                     running, watcher, refusals::add)) {
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
             ConfigReloader reloader = new ConfigReloader(file, Map.of(), loader, holder,
                     new LoadedConfig(CapoSettings.defaults(), List.of()), watcher, refusals::add)) {
            assertThat(reloader.reload()).isTrue();
            assertThat(holder.current().ipReserveMaxCount()).isEqualTo(1);

            Files.delete(file);
            assertThat(reloader.reload()).isFalse();
            assertThat(reloader.lastError()).hasValueSatisfying(m -> assertThat(m).contains("cannot be read"));
            assertThat(holder.current().ipReserveMaxCount()).isEqualTo(1);
            assertThat(refusals).containsExactly("unreadable");
        }
    }

    /** The adversarial review's case: an empty file must not switch 800/30m/allow to the defaults 300/40m/deny. */
    @Test
    void contentlessAndTruncatedFilesAreRefusedAndCounted() throws IOException {
        String running = """
                apiVersion: config.capo.io/v1
                kind: CapoConfig
                ipReserveMaxCount: 800
                ipReserveTime: 30m
                failureMode: allow
                """;
        Path file = Files.writeString(dir.resolve("capo_config.yaml"), running);
        LoadedConfig loaded = loader.load(file, Map.of());
        SettingsHolder holder = new SettingsHolder(loaded.settings());
        List<CapoSettings> seen = new CopyOnWriteArrayList<>();
        holder.onChange(seen::add);
        try (FileWatcher watcher = new FileWatcher(1000);
             ConfigReloader reloader = new ConfigReloader(file, Map.of(), loader, holder, loaded, watcher,
                     refusals::add)) {
            for (String content : List.of("", "\n \t\n", "# emptied\n", "---\n", "{}\n", "null\n")) {
                replace(file, content);
                assertThat(reloader.reload()).as("%s", content).isFalse();
                assertThat(reloader.lastError()).hasValueSatisfying(m -> assertThat(m).contains("has no settings"));
            }
            // a write cut after a few lines: valid YAML, valid values, but keys are gone
            replace(file, running.substring(0, running.indexOf("ipReserveTime")));
            assertThat(reloader.reload()).isFalse();
            assertThat(reloader.lastError()).hasValueSatisfying(m -> assertThat(m)
                    .startsWith("capo_config.yaml: no longer names failureMode, ipReserveTime,"));
            // cut inside a flow mapping: not YAML
            replace(file, "{ipReserveMaxCount: 800, ipReserveTime: 30m, failureM");
            assertThat(reloader.reload()).isFalse();

            assertThat(refusals).containsExactly("empty", "empty", "empty", "empty", "empty", "empty",
                    "keys-dropped", "invalid");
            assertThat(seen).isEmpty();
            assertThat(holder.current()).isEqualTo(loaded.settings());

            // saying so explicitly goes back to a default, and the refusals were not remembered as the last good
            replace(file, running.replace("ipReserveTime: 30m", "ipReserveTime: ~"));
            assertThat(reloader.reload()).isTrue();
            assertThat(holder.current().ipReserveTime()).isEqualTo(CapoSettings.defaults().ipReserveTime());
            assertThat(holder.current().ipReserveMaxCount()).isEqualTo(800);
            assertThat(reloader.lastError()).isEmpty();
        }
    }
}
