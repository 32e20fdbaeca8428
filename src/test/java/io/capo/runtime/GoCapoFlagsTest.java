package io.capo.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GoCapoFlagsTest {

    @Test
    void theGoChartsCommandLineSetsTheConfigFile() {
        GoCapoFlags flags = GoCapoFlags.parse("--config=/capo_config.yaml");
        assertThat(flags.configFile()).contains(Path.of("/capo_config.yaml"));
        assertThat(flags.overrides()).isEmpty();
        assertThat(flags.rest()).isEmpty();
    }

    @Test
    void kubebuilderManagerFlagsMapToSettings() {
        GoCapoFlags flags = GoCapoFlags.parse("--health-probe-bind-address=:8081", "--metrics-bind-address",
                "127.0.0.1:8080", "--leader-elect", "-verbose", "--development");
        assertThat(flags.overrides()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "health.healthProbeBindAddress", ":8081", "metrics.bindAddress", "127.0.0.1:8080",
                "leaderElection.leaderElect", "true"));
        assertThat(flags.verbose()).isTrue();
        assertThat(flags.textLogs()).isTrue();
        assertThat(flags.configFile()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({"--leader-elect=false,false", "-leader-elect=0,false", "--leader-elect=T,true",
            "--leader-elect=TRUE,true", "-leader-elect,true"})
    void booleansAreParsedAsGoDoes(String arg, String expected) {
        assertThat(GoCapoFlags.parse(arg).overrides()).containsEntry("leaderElection.leaderElect", expected);
    }

    @Test
    void parsingStopsAtTheFirstArgumentAndAtDoubleDash() {
        assertThat(GoCapoFlags.parse("--verbose", "run", "--config=x").rest()).containsExactly("run", "--config=x");
        GoCapoFlags dashed = GoCapoFlags.parse("--config", "c.yaml", "--", "--verbose");
        assertThat(dashed.rest()).containsExactly("--verbose");
        assertThat(dashed.verbose()).isFalse();
        // a boolean takes its value only after "=": "false" here is the first argument, as in Go
        assertThat(GoCapoFlags.parse("--leader-elect", "false").rest()).containsExactly("false");
    }

    @Test
    void noArgumentsIsNoFlags() {
        assertThat(GoCapoFlags.parse()).isEqualTo(GoCapoFlags.NONE);
        assertThat(GoCapoFlags.NONE.any()).isFalse();
    }

    @Test
    void mistakesAreNamed() {
        assertThatThrownBy(() -> GoCapoFlags.parse("--conifg=/x")).hasMessageStartingWith(
                "flag provided but not defined: -conifg").hasMessageContaining("--config");
        assertThatThrownBy(() -> GoCapoFlags.parse("--config")).hasMessage("flag needs an argument: -config");
        assertThatThrownBy(() -> GoCapoFlags.parse("--verbose=yes"))
                .hasMessage("invalid boolean value \"yes\" for -verbose");
        assertThatThrownBy(() -> GoCapoFlags.parse("--webhook-enable=false"))
                .hasMessageStartingWith("-webhook-enable=false is not supported");
        assertThat(GoCapoFlags.parse("--webhook-enable=true").any()).isFalse();
    }

    @Test
    void flagsWinOverPropertiesAndEnvironment() {
        Properties properties = new Properties();
        properties.setProperty(StartupOptions.SETTINGS_PREFIX + "metrics.bindAddress", ":9000");
        properties.setProperty(StartupOptions.SETTINGS_PREFIX + "ipReserveTime", "1h");
        StartupOptions options = StartupOptions.from(properties, Map.of("CAPO_CONFIG_FILE", "/env.yaml"))
                .with(GoCapoFlags.parse("--config=/flag.yaml", "--metrics-bind-address=:8088"));
        assertThat(options.configFile()).contains(Path.of("/flag.yaml"));
        assertThat(options.overrides()).containsEntry("metrics.bindAddress", ":8088")
                .containsEntry("ipReserveTime", "1h");
        StartupOptions without = StartupOptions.from(properties, Map.of("CAPO_CONFIG_FILE", "/env.yaml"))
                .with(GoCapoFlags.NONE);
        assertThat(without.configFile()).isEqualTo(Optional.of(Path.of("/env.yaml")));
        assertThat(List.copyOf(without.overrides().keySet())).contains("metrics.bindAddress");
    }
}
