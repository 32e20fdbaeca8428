package io.capo.config;

import io.capo.reservation.SelectorRequirement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class CapoConfigLoaderTest {

    static final String GO_CAPO_FILE = """
            apiVersion: config.capo.io/v1
            kind: CapoConfig
            health:
              healthProbeBindAddress: ":8081"
            metrics:
              bindAddress: ":8080"
            webhook:
              port: 9443
            leaderElection:
              leaderElect: true
              resourceName: capo
              resourceNamespace: ip-reserve
            ipReserveMaxCount: 400
            ipReserveTime: 40m
            ipReleasePeriod: 5s
            labelSelector:
              matchExpressions:
              - key: statefulset.kubernetes.io/pod-name
                operator: Exists
              - key: brokerId
                operator: Exists
            """;

    private final CapoConfigLoader loader = new CapoConfigLoader();

    @Test
    void goCapoFileIsValidAsIs() {
        LoadedConfig loaded = loader.parse(GO_CAPO_FILE, Map.of());
        CapoSettings s = loaded.settings();
        CapoSettings d = CapoSettings.defaults();

        assertThat(s.ipReserveMaxCount()).isEqualTo(400);
        assertThat(s.ipReserveTime()).isEqualTo(Duration.ofMinutes(40));
        assertThat(s.ipReleasePeriod()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.matchExpressions()).isEqualTo(d.matchExpressions());
        assertThat(s.leaderElection().resourceNamespace()).isEqualTo("ip-reserve");
        assertThat(s.leaderElection().resourceName()).isEqualTo("capo");
        assertThat(s.managementPort()).isEqualTo(8080);
        assertThat(s.healthProbePort()).isEqualTo(8081);
        assertThat(s.webhookPort()).isEqualTo(9443);
        assertThat(loaded.warnings()).singleElement().asString()
                .contains("health.healthProbeBindAddress", "8080");
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "\n", "# only a comment\n", "---\n"})
    void emptyFileIsAllDefaults(String yaml) {
        assertThat(loader.parse(yaml, Map.of()).settings()).isEqualTo(CapoSettings.defaults());
    }

    @ParameterizedTest(name = "timeoutSeconds {0} -> budget {1} ms")
    @org.junit.jupiter.params.provider.CsvSource({"10, 8000", "30, 28000", "3, 1000", "1, 1000"})
    void theBudgetFollowsTheWebhookTimeoutUnlessGiven(int timeoutSeconds, long budgetMillis) {
        String yaml = "webhook: {timeoutSeconds: " + timeoutSeconds + "}\n";
        assertThat(loader.parse(yaml, Map.of()).settings().webhookBudget()).isEqualTo(Duration.ofMillis(budgetMillis));
        assertThat(loader.parse(yaml + "webhookBudget: 2s\n", Map.of()).settings().webhookBudget())
                .as("an explicit budget wins").isEqualTo(Duration.ofSeconds(2));
        assertThat(loader.parse(yaml, Map.of("webhookBudget", "4s")).settings().webhookBudget())
                .isEqualTo(Duration.ofSeconds(4));
    }

    @Test
    void everyKeyIsRead() {
        String yaml = """
                health: {healthProbeBindAddress: "0.0.0.0:9000"}
                metrics: {bindAddress: "0.0.0.0:9000"}
                webhook: {port: 10443, certDir: /certs}
                leaderElection:
                  leaderElect: false
                  resourceName: capo-lock
                  resourceNamespace: kube-system
                  leaseDuration: 30s
                  renewDeadline: 20s
                  retryPeriod: 500ms
                ipReserveMaxCount: 10
                ipReserveTime: 1h30m
                ipReleasePeriod: PT10S
                labelSelector:
                  matchLabels: {app: kafka}
                  matchExpressions:
                  - {key: tier, operator: In, values: [a, b]}
                selectorMode: allOf
                namespaceLabel: capo.io/reserve=yes
                failureMode: allow
                webhookBudget: 2500ms
                staleGrace: 10m
                calicoApiVersion: crd.projectcalico.org/v1
                reservationObjects: 4
                reservationObjectName: capo.reservations
                """;
        LoadedConfig loaded = loader.parse(yaml, Map.of());
        CapoSettings s = loaded.settings();

        assertThat(loaded.warnings()).isEmpty();
        assertThat(s).isEqualTo(new CapoSettings(10, Duration.ofMinutes(90), Duration.ofSeconds(10),
                List.of(new SelectorRequirement("tier", "In", List.of("a", "b"))), Map.of("app", "kafka"),
                SelectorMode.ALL_OF, "capo.io/reserve=yes", FailureMode.ALLOW, Duration.ofMillis(2500),
                Duration.ofMinutes(10), "crd.projectcalico.org/v1", 4, "capo.reservations",
                new LeaderElection(false, "capo-lock", "kube-system", Duration.ofSeconds(30), Duration.ofSeconds(20),
                        Duration.ofMillis(500)),
                10443, "/certs", 9000, 9000));
        assertThat(s.namespaceLabelKey()).isEqualTo("capo.io/reserve");
        assertThat(s.namespaceLabelValue()).isEqualTo("yes");
    }

    @Test
    void unknownKeysAreWarningsNotErrors() {
        String yaml = GO_CAPO_FILE + """
                cacheNamespace: foo
                leaderElection2: {}
                """;
        String withNested = yaml.replace("  leaderElect: true\n", "  leaderElect: true\n  resourceLock: leases\n")
                .replace("    operator: Exists\n  - key: brokerId",
                        "    operator: Exists\n    note: x\n  - key: brokerId");
        List<String> warnings = loader.parse(withNested, Map.of()).warnings();
        assertThat(warnings).contains(
                "capo_config.yaml: unknown key \"cacheNamespace\" ignored",
                "capo_config.yaml: unknown key \"leaderElection2\" ignored",
                "capo_config.yaml: unknown key \"leaderElection.resourceLock\" ignored",
                "capo_config.yaml: unknown key \"labelSelector.matchExpressions[0].note\" ignored");
    }

    @Test
    void labelSelectorIsTakenAsAWhole() {
        CapoSettings onlyLabels = loader.parse("labelSelector: {matchLabels: {app: kafka}}", Map.of()).settings();
        assertThat(onlyLabels.matchExpressions()).isEmpty();
        assertThat(onlyLabels.matchLabels()).containsExactly(Map.entry("app", "kafka"));

        LoadedConfig empty = loader.parse("labelSelector: {matchExpressions: []}", Map.of());
        assertThat(empty.settings().matchExpressions()).isEmpty();
        assertThat(empty.warnings()).anyMatch(w -> w.contains("no pod is selected"));
    }

    static Stream<Arguments> badFiles() {
        return Stream.of(
                Arguments.of("ipReserveTime: forty",
                        "capo_config.yaml: ipReserveTime: \"forty\" is not a duration (e.g. 40m, 5s)"),
                Arguments.of("ipReserveTime: 40",
                        "capo_config.yaml: ipReserveTime: \"40\" is not a duration (e.g. 40m, 5s)"),
                Arguments.of("ipReserveTime: 0s", "capo_config.yaml: ipReserveTime: must be greater than 0, got 0s"),
                Arguments.of("ipReserveTime: [1m]", "capo_config.yaml: ipReserveTime: expected a single value"),
                Arguments.of("ipReleasePeriod: 500ms", "capo_config.yaml: ipReleasePeriod: must be at least 1s"),
                Arguments.of("ipReserveMaxCount: many", "ipReserveMaxCount: \"many\" is not an integer"),
                Arguments.of("ipReserveMaxCount: -1", "capo_config.yaml: ipReserveMaxCount: must be greater than 0"),
                Arguments.of("ipReserveMaxCount: 1.5", "ipReserveMaxCount: \"1.5\" is not an integer"),
                Arguments.of("apiVersion: config.capo.io/v2", "capo_config.yaml: apiVersion: \"config.capo.io/v2\""),
                Arguments.of("kind: Other", "capo_config.yaml: kind: \"Other\" is not supported, expected CapoConfig"),
                Arguments.of("leaderElection: {leaseDuration: 10s}",
                        "capo_config.yaml: leaderElection.leaseDuration must be greater than "
                                + "leaderElection.renewDeadline (10s <= 10s)"),
                Arguments.of("leaderElection: {leaderElect: maybe}",
                        "leaderElection.leaderElect: \"maybe\" is not a boolean"),
                Arguments.of("leaderElection: true", "capo_config.yaml: leaderElection: expected a mapping"),
                Arguments.of("webhook: {port: 70000}", "capo_config.yaml: webhook.port: port must be between 1"),
                Arguments.of("metrics: {bindAddress: \"8080\"}",
                        "metrics.bindAddress: \"8080\" is not an address of the form :8080"),
                Arguments.of("metrics: {bindAddress: \":http\"}", "metrics.bindAddress: \":http\" is not an address"),
                Arguments.of("selectorMode: someOf", "selectorMode: \"someOf\" is not a selector mode"),
                Arguments.of("failureMode: retry", "capo_config.yaml: failureMode: \"retry\" is not a failure mode"),
                Arguments.of("namespaceLabel: ip-reserve", "namespaceLabel: \"ip-reserve\" is not in the form"),
                Arguments.of("webhookBudget: 30s", "capo_config.yaml: webhookBudget: must be less than 30s"),
                Arguments.of("webhook: {timeoutSeconds: 31}", "webhook.timeoutSeconds: must be between 1 and 30"),
                Arguments.of("staleGrace: -1m", "capo_config.yaml: staleGrace: must be greater than 0"),
                Arguments.of("calicoApiVersion: projectcalico.org/v2", "calicoApiVersion: \"projectcalico.org/v2\""),
                Arguments.of("reservationObjects: 17", "reservationObjects: must be between 1 and 16, got 17"),
                Arguments.of("reservationObjectName: Not_Valid", "reservationObjectName: \"Not_Valid\" is not a valid"),
                Arguments.of("labelSelector: {matchExpressions: [{key: a, operator: In}]}",
                        "capo_config.yaml: labelSelector.matchExpressions[0].values: operator In needs at least one"),
                Arguments.of("labelSelector: {matchExpressions: [{key: a, operator: Exists}, {key: b, operator: Has}]}",
                        "labelSelector.matchExpressions[1].operator: \"Has\" is not one of"),
                Arguments.of("labelSelector: {matchExpressions: [{operator: Exists}]}",
                        "labelSelector.matchExpressions[0].key: is missing"),
                Arguments.of("labelSelector: {matchExpressions: {key: a}}",
                        "labelSelector.matchExpressions: expected a list"),
                Arguments.of("labelSelector: {matchLabels: [a]}", "labelSelector.matchLabels: expected a mapping"),
                Arguments.of("labelSelector: {matchLabels: {app: \"a b\"}}",
                        "labelSelector.matchLabels: app: \"a b\" is not a valid label value"),
                Arguments.of("- a\n- b", "capo_config.yaml: expected a mapping at the top level"),
                Arguments.of("ipReserveTime: [", "capo_config.yaml: not valid YAML at line"),
                Arguments.of("ipReserveTime: 1m\nipReserveTime: 2m", "capo_config.yaml: not valid YAML"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void badValuesNameTheField(String yaml, String message) {
        assertThatThrownBy(() -> loader.parse(yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("capo_config.yaml: ")
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(e.getMessage().split("capo_config.yaml", -1)).hasSize(2));
    }

    static Stream<Arguments> overrides() {
        return Stream.of(
                Arguments.of("ipReserveTime", "10m", "ipReserveTime=10m"),
                Arguments.of("ipReserveMaxCount", "7", "ipReserveMaxCount=7"),
                Arguments.of("leaderElection.resourceNamespace", "other", "resource=other/capo"),
                Arguments.of("leaderElection.leaderElect", "false", "leaderElect=false"),
                Arguments.of("webhook.port", "8443", "webhook.port=8443"),
                Arguments.of("webhook.certDir", "/c", "webhook.certDir=/c"),
                Arguments.of("metrics.bindAddress", ":9090", "managementPort=9090"),
                Arguments.of("failureMode", "ALLOW", "failureMode=allow"),
                Arguments.of("selectorMode", "allOf", "labelSelector=allOf["),
                Arguments.of("namespaceLabel", "a=b", "namespaceLabel=a=b"),
                Arguments.of("labelSelector.matchLabels", "app=kafka, tier=db", "anyOf[app=kafka, tier=db, "),
                Arguments.of("staleGrace", "1h", "staleGrace=1h"),
                Arguments.of("reservationObjects", "3", "reservationObjects=3"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("overrides")
    void overridesWinOverTheFile(String key, String value, String expected) {
        String yaml = GO_CAPO_FILE + "failureMode: deny\nstaleGrace: 2m\n";
        assertThat(loader.parse(yaml, Map.of(key, value)).settings().describe()).contains(expected);
    }

    static Stream<Arguments> badOverrides() {
        return Stream.of(
                Arguments.of("ipReserveTime", "forty",
                        "overrides: ipReserveTime: \"forty\" is not a duration (e.g. 40m, 5s)"),
                Arguments.of("ipReserveTime", "0", "overrides: ipReserveTime: must be greater than 0"),
                Arguments.of("webhook.port", "0", "overrides: webhook.port: port must be between"),
                Arguments.of("leaderElection.renewDeadline", "1s",
                        "overrides: leaderElection.renewDeadline must be greater than leaderElection.retryPeriod"),
                Arguments.of("labelSelector.matchLabels", "app", "overrides: labelSelector.matchLabels: \"app\""),
                Arguments.of("labelSelector.matchExpressions", "x",
                        "overrides: labelSelector.matchExpressions cannot be overridden"),
                Arguments.of("ipReserveTim", "40m", "overrides: unknown key \"ipReserveTim\""),
                Arguments.of("apiVersion", "config.capo.io/v1", "overrides: unknown key \"apiVersion\""));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("badOverrides")
    void badOverridesNameTheKey(String key, String value, String message) {
        assertThatThrownBy(() -> loader.parse(GO_CAPO_FILE, Map.of(key, value)))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(message);
    }

    @Test
    void loadNamesTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("capo_config.yaml");
        Files.writeString(file, GO_CAPO_FILE);
        assertThat(loader.load(file, Map.of("ipReserveMaxCount", "5")).settings().ipReserveMaxCount()).isEqualTo(5);

        Path other = dir.resolve("other.yaml");
        Files.writeString(other, "ipReserveTime: forty\n");
        assertThatThrownBy(() -> loader.load(other, Map.of()))
                .hasMessage("other.yaml: ipReserveTime: \"forty\" is not a duration (e.g. 40m, 5s)");
        assertThatThrownBy(() -> loader.load(dir.resolve("missing.yaml"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("missing.yaml: cannot be read");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"", "  \n   \n", "# capo_config.yaml\n# nothing else\n", "---\n", "--- # empty\n...\n",
            "null\n", "~\n", "{}\n", "--- {}\n"})
    void aFileWithoutAnyKeyIsRefusedInsteadOfRunningOnDefaults(String content, @TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("capo_config.yaml"), content);
        assertThatThrownBy(() -> loader.load(file, Map.of()))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.reason()).isEqualTo("empty"))
                .hasMessageStartingWith(file + ": has no settings");
        // without a file, or from a string, nothing changes: every key takes its default
        assertThat(loader.parse(content, Map.of()).settings()).isEqualTo(CapoSettings.defaults());
    }

    @Test
    void aFileNamingOnlyApiVersionAndKindHoldsTheDefaults(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("capo_config.yaml"),
                "apiVersion: config.capo.io/v1\nkind: CapoConfig\n");
        LoadedConfig loaded = loader.load(file, Map.of());
        assertThat(loaded.settings()).isEqualTo(CapoSettings.defaults());
        assertThat(loaded.setKeys()).isEmpty();
    }

    @Test
    void theKeysTheFileSetsAndNamesAreReported() {
        LoadedConfig loaded = loader.parse(GO_CAPO_FILE + "failureMode: ~\nwebhookBudget: null\nsurplus: 1\n", Map.of());
        assertThat(loaded.setKeys()).containsExactlyInAnyOrder("health.healthProbeBindAddress",
                "metrics.bindAddress", "webhook.port", "leaderElection.leaderElect", "leaderElection.resourceName",
                "leaderElection.resourceNamespace", "ipReserveMaxCount", "ipReserveTime", "ipReleasePeriod",
                "labelSelector.matchExpressions");
        assertThat(loaded.namedKeys()).containsAll(loaded.setKeys()).contains("failureMode", "webhookBudget")
                .doesNotContain("surplus", "apiVersion", "kind", "labelSelector", "labelSelector.matchLabels");
    }

    @Test
    void bindAddressHostIsIgnoredWithAWarning() {
        LoadedConfig loaded = loader.parse("metrics: {bindAddress: \"127.0.0.1:8081\"}", Map.of());
        assertThat(loaded.settings().managementPort()).isEqualTo(8081);
        assertThat(loaded.warnings()).containsExactly(
                "capo_config.yaml: metrics.bindAddress: host \"127.0.0.1\" is ignored, only the port is used");
    }
}
