package io.capo.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigChangeGuardTest {

    private final CapoConfigLoader loader = new CapoConfigLoader();

    private static final String RUNNING = """
            ipReserveMaxCount: 800
            ipReserveTime: 30m
            failureMode: allow
            leaderElection:
              resourceName: capo
            """;

    private java.util.Optional<ConfigException> check(String running, String next) {
        return ConfigChangeGuard.check(loader.parse(running, Map.of()), loader.parse(next, Map.of()),
                "capo_config.yaml");
    }

    @Test
    void aFileThatKeepsEveryKeyMayChangeValuesAndAddKeys() {
        assertThat(check(RUNNING, RUNNING.replace("800", "200") + "staleGrace: 10m\n")).isEmpty();
    }

    @Test
    void aFileThatLosesKeysIsRefusedNamingThem() {
        assertThat(check(RUNNING, "ipReserveMaxCount: 800\n")).hasValueSatisfying(e -> {
            assertThat(e.reason()).isEqualTo("keys-dropped");
            assertThat(e.getMessage()).startsWith("capo_config.yaml: no longer names failureMode, ipReserveTime, "
                    + "leaderElection.resourceName, set in the running config;");
        });
    }

    @Test
    void aWholeSectionDroppedOrNulledCountsForEachKeyInIt() {
        assertThat(check(RUNNING, RUNNING.replace("leaderElection:\n  resourceName: capo\n", "leaderElection: ~\n")))
                .hasValueSatisfying(e -> assertThat(e.getMessage()).contains("no longer names "
                        + "leaderElection.resourceName,"));
    }

    @Test
    void aKeyNamedWithoutValueGoesBackToItsDefaultOnPurpose() {
        String explicit = RUNNING.replace("ipReserveTime: 30m", "ipReserveTime: ~").replace("failureMode: allow",
                "failureMode: null");
        assertThat(check(RUNNING, explicit)).isEmpty();
        // once in force, the key is not set any more and may then go
        assertThat(check(explicit, "ipReserveMaxCount: 800\nleaderElection: {resourceName: capo}\n")).isEmpty();
    }

    @Test
    void keysOnlyNamedOrUnknownInTheRunningFileMayGo() {
        assertThat(check("ipReserveMaxCount: 5\nfailureMode: ~\nsomethingElse: 1\napiVersion: config.capo.io/v1\n",
                "ipReserveMaxCount: 5\n")).isEmpty();
    }
}
