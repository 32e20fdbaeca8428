package io.capo.runtime;

import io.capo.config.CapoSettings;
import io.capo.config.SelectorMode;
import io.capo.reservation.SelectorRequirement;
import io.capo.reservation.Selection;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The selector from capo_config.yaml, as the webhook and the backstop apply it. */
class SelectionMappingTest {

    static final CapoSettings D = CapoSettings.defaults();

    static Stream<Arguments> selection() {
        List<SelectorRequirement> twoExists = D.matchExpressions();
        Map<String, String> podNameOnly = Map.of("statefulset.kubernetes.io/pod-name", "kafka-0");
        Map<String, String> both = Map.of("statefulset.kubernetes.io/pod-name", "kafka-0", "brokerId", "0");
        Map<String, String> none = Map.of("app", "web");
        Map<String, String> appLabel = Map.of("app", "kafka");
        return Stream.of(
                Arguments.of(SelectorMode.ANY_OF, Map.of(), twoExists, podNameOnly, true),
                Arguments.of(SelectorMode.ANY_OF, Map.of(), twoExists, both, true),
                Arguments.of(SelectorMode.ANY_OF, Map.of(), twoExists, none, false),
                Arguments.of(SelectorMode.ALL_OF, Map.of(), twoExists, podNameOnly, false),
                Arguments.of(SelectorMode.ALL_OF, Map.of(), twoExists, both, true),
                Arguments.of(SelectorMode.ANY_OF, appLabel, twoExists, Map.of("app", "kafka"), true),
                Arguments.of(SelectorMode.ALL_OF, appLabel, twoExists, Map.of("app", "kafka"), false),
                Arguments.of(SelectorMode.ANY_OF, Map.of(), List.of(), none, false),
                Arguments.of(SelectorMode.ALL_OF, Map.of(), List.of(), none, true),
                Arguments.of(SelectorMode.ALL_OF, Map.of(),
                        List.of(new SelectorRequirement("tier", "In", List.of("a", "b")),
                                new SelectorRequirement("skip", "DoesNotExist", List.of()),
                                new SelectorRequirement("env", "NotIn", List.of("dev"))),
                        Map.of("tier", "b"), true),
                Arguments.of(SelectorMode.ANY_OF, Map.of(),
                        List.of(new SelectorRequirement("tier", "In", List.of("a")),
                                new SelectorRequirement("env", "NotIn", List.of("dev"))),
                        Map.of("env", "dev"), false));
    }

    @ParameterizedTest(name = "{0} labels={1} expressions={2} pod={3} -> {4}")
    @MethodSource("selection")
    void selects(SelectorMode mode, Map<String, String> labels, List<SelectorRequirement> expressions,
                 Map<String, String> pod, boolean expected) {
        CapoSettings settings = new CapoSettings(D.ipReserveMaxCount(), D.ipReserveTime(), D.ipReleasePeriod(),
                expressions, labels, mode, D.namespaceLabel(), D.failureMode(), D.webhookBudget(), D.staleGrace(),
                D.calicoApiVersion(), D.reservationObjects(), D.reservationObjectName(), D.leaderElection(),
                D.webhookPort(), D.certDir(), D.managementPort(), D.healthProbePort());
        assertThat(Selection.matches(CapoConfiguration.selectionPolicy(settings), pod)).isEqualTo(expected);
    }

}
