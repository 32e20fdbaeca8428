package io.capo.config;

import io.capo.reservation.SelectorRequirement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CapoSettingsTest {

    private static final CapoSettings D = CapoSettings.defaults();

    @Test
    void defaults() {
        assertThat(D.ipReserveMaxCount()).isEqualTo(300);
        assertThat(D.ipReserveTime()).isEqualTo(Duration.ofMinutes(40));
        assertThat(D.ipReleasePeriod()).isEqualTo(Duration.ofSeconds(5));
        assertThat(D.matchExpressions()).containsExactly(
                new SelectorRequirement("statefulset.kubernetes.io/pod-name", "Exists", List.of()),
                new SelectorRequirement("brokerId", "Exists", null));
        assertThat(D.matchLabels()).isEmpty();
        assertThat(D.selectorMode()).isEqualTo(SelectorMode.ANY_OF);
        assertThat(D.namespaceLabel()).isEqualTo("ip-reserve=enabled");
        assertThat(D.namespaceLabelKey()).isEqualTo("ip-reserve");
        assertThat(D.namespaceLabelValue()).isEqualTo("enabled");
        assertThat(D.failureMode()).isEqualTo(FailureMode.DENY);
        assertThat(D.webhookBudget()).isEqualTo(Duration.ofSeconds(8));
        assertThat(D.staleGrace()).isEqualTo(Duration.ofMinutes(5));
        assertThat(D.calicoApiVersion()).isEqualTo("projectcalico.org/v3");
        assertThat(D.reservationObjects()).isEqualTo(1);
        assertThat(D.reservationObjectName()).isEqualTo("ip-reserve-delay-release");
        assertThat(D.leaderElection()).isEqualTo(new LeaderElection(true, "capo", "", Duration.ofSeconds(15),
                Duration.ofSeconds(10), Duration.ofSeconds(2)));
        assertThat(D.webhookPort()).isEqualTo(9443);
        assertThat(D.certDir()).isEqualTo("/tmp/k8s-webhook-server/serving-certs");
        assertThat(D.managementPort()).isEqualTo(8080);
        assertThat(D.healthProbePort()).isEqualTo(8080);
    }

    @Test
    void describeIsOneLineWithEveryValue() {
        String line = D.describe();
        assertThat(line).doesNotContain("\n").contains(
                "ipReserveMaxCount=300", "ipReserveTime=40m", "ipReleasePeriod=5s",
                "labelSelector=anyOf[statefulset.kubernetes.io/pod-name Exists, brokerId Exists]",
                "namespaceLabel=ip-reserve=enabled", "failureMode=deny", "webhookBudget=8s", "staleGrace=5m",
                "calicoApiVersion=projectcalico.org/v3", "reservationObjects=1",
                "reservationObjectName=ip-reserve-delay-release", "leaderElect=true", "leaseDuration=15s",
                "renewDeadline=10s", "retryPeriod=2s", "webhook.port=9443",
                "webhook.certDir=/tmp/k8s-webhook-server/serving-certs", "managementPort=8080",
                "healthProbePort=8080");
    }

    @Test
    void collectionsAreImmutable() {
        assertThatThrownBy(() -> D.matchExpressions().add(SelectorRequirement.exists("x")))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> D.matchLabels().put("a", "b")).isInstanceOf(UnsupportedOperationException.class);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                bad("ipReserveMaxCount", s -> with(s, 0, s.ipReserveTime(), s.ipReleasePeriod())),
                bad("ipReserveTime", s -> with(s, 1, Duration.ZERO, s.ipReleasePeriod())),
                bad("ipReleasePeriod", s -> with(s, 1, s.ipReserveTime(), Duration.ofMillis(999))),
                bad("webhookBudget", s -> budget(s, Duration.ofSeconds(30))),
                bad("webhookBudget", s -> budget(s, Duration.ZERO)),
                bad("namespaceLabel", s -> namespaceLabel(s, "no-equals-sign")),
                bad("namespaceLabel", s -> namespaceLabel(s, "bad key=x")),
                bad("namespaceLabel", s -> namespaceLabel(s, "k=-bad-")),
                bad("labelSelector.matchLabels", s -> labels(s, Map.of("a", "b c"))));
    }

    private static Arguments bad(String field, UnaryOperator<CapoSettings> change) {
        return Arguments.of(field, change);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void constructorNamesTheBadField(String field, UnaryOperator<CapoSettings> change) {
        assertThatThrownBy(() -> change.apply(D))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.field()).hasValue(field))
                .hasMessageStartingWith(field);
    }

    @Test
    void leaderElectionOrder() {
        Duration s10 = Duration.ofSeconds(10);
        assertThatThrownBy(() -> new LeaderElection(true, "capo", "", s10, s10, Duration.ofSeconds(2)))
                .hasMessageStartingWith("leaderElection.leaseDuration must be greater than "
                        + "leaderElection.renewDeadline");
        assertThatThrownBy(() -> new LeaderElection(true, "capo", "", Duration.ofSeconds(15), s10, s10))
                .hasMessageStartingWith("leaderElection.renewDeadline must be greater than "
                        + "leaderElection.retryPeriod");
        assertThatThrownBy(() -> new LeaderElection(true, "capo", "", s10, s10, Duration.ZERO))
                .hasMessageStartingWith("leaderElection.retryPeriod: must be greater than 0");
        assertThatThrownBy(() -> new LeaderElection(true, "Capo_", "", Duration.ofSeconds(15), s10, s10))
                .hasMessageStartingWith("leaderElection.resourceName");
    }

    static Stream<Arguments> badRequirements() {
        return Stream.of(
                Arguments.of("k", "In", List.of(), "values: operator In needs at least one value"),
                Arguments.of("k", "NotIn", null, "values: operator NotIn needs at least one value"),
                Arguments.of("k", "Exists", List.of("x"), "values: operator Exists must not have values"),
                Arguments.of("k", "DoesNotExist", List.of("x"), "must not have values"),
                Arguments.of("k", "exists", List.of(), "operator: \"exists\" is not one of"),
                Arguments.of("k", null, List.of(), "operator"),
                Arguments.of("", "Exists", List.of(), "key"),
                Arguments.of("a b", "Exists", List.of(), "key"),
                Arguments.of("k", "In", List.of("a b"), "values: \"a b\""));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("badRequirements")
    void requirementValidation(String key, String operator, List<String> values, String message) {
        assertThatThrownBy(() -> new SelectorRequirement(key, operator, values))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    private static CapoSettings with(CapoSettings s, int max, Duration reserve, Duration release) {
        return new CapoSettings(max, reserve, release, s.matchExpressions(), s.matchLabels(), s.selectorMode(),
                s.namespaceLabel(), s.failureMode(), s.webhookBudget(), s.staleGrace(), s.calicoApiVersion(),
                s.reservationObjects(), s.reservationObjectName(), s.leaderElection(), s.webhookPort(), s.certDir(),
                s.managementPort(), s.healthProbePort());
    }

    private static CapoSettings budget(CapoSettings s, Duration budget) {
        return new CapoSettings(s.ipReserveMaxCount(), s.ipReserveTime(), s.ipReleasePeriod(), s.matchExpressions(),
                s.matchLabels(), s.selectorMode(), s.namespaceLabel(), s.failureMode(), budget, s.staleGrace(),
                s.calicoApiVersion(), s.reservationObjects(), s.reservationObjectName(), s.leaderElection(),
                s.webhookPort(), s.certDir(), s.managementPort(), s.healthProbePort());
    }

    private static CapoSettings namespaceLabel(CapoSettings s, String label) {
        return new CapoSettings(s.ipReserveMaxCount(), s.ipReserveTime(), s.ipReleasePeriod(), s.matchExpressions(),
                s.matchLabels(), s.selectorMode(), label, s.failureMode(), s.webhookBudget(), s.staleGrace(),
                s.calicoApiVersion(), s.reservationObjects(), s.reservationObjectName(), s.leaderElection(),
                s.webhookPort(), s.certDir(), s.managementPort(), s.healthProbePort());
    }

    private static CapoSettings labels(CapoSettings s, Map<String, String> labels) {
        return new CapoSettings(s.ipReserveMaxCount(), s.ipReserveTime(), s.ipReleasePeriod(), s.matchExpressions(),
                labels, s.selectorMode(), s.namespaceLabel(), s.failureMode(), s.webhookBudget(), s.staleGrace(),
                s.calicoApiVersion(), s.reservationObjects(), s.reservationObjectName(), s.leaderElection(),
                s.webhookPort(), s.certDir(), s.managementPort(), s.healthProbePort());
    }

    @Test
    void webhookAndManagementNeedTheirOwnPorts() {
        assertThatThrownBy(() -> new CapoConfigLoader().parse("webhook: {port: 8080}", Map.of()))
                .hasMessageContaining("metrics.bindAddress").hasMessageContaining("webhook.port");
    }
}
