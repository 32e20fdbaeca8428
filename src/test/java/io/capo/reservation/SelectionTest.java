package io.capo.reservation;

import io.capo.reservation.SelectorRequirement;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SelectionTest {

    static final SelectionPolicy ANY_OF = new SelectionPolicy("ip-reserve", "enabled", List.of(
            SelectorRequirement.exists("statefulset.kubernetes.io/pod-name"), SelectorRequirement.exists("brokerId")),
            true);
    static final SelectionPolicy ALL_OF = new SelectionPolicy("ip-reserve", "enabled", ANY_OF.requirements(), false);
    static final NamespaceFacts OPTED_IN = new NamespaceFacts("kafka", Map.of("ip-reserve", "enabled"), false);

    static PodFacts pod(Map<String, String> labels, Map<String, String> annotations, List<String> ips) {
        return new PodFacts("kafka", "kafka-0", "uid-1", "node-1", labels, annotations, ips, "Running", "", false,
                false, null, null);
    }

    @Test
    void anyMatchingExpressionSelectsAsInTheGoCapo() {
        assertThat(Selection.evaluate(ANY_OF, OPTED_IN, pod(Map.of("brokerId", "1"), Map.of(), List.of("10.0.0.1")))
                .selected()).isTrue();
        assertThat(Selection.evaluate(ALL_OF, OPTED_IN, pod(Map.of("brokerId", "1"), Map.of(), List.of("10.0.0.1")))
                .selected()).isFalse();
        assertThat(Selection.evaluate(ALL_OF, OPTED_IN, pod(Map.of("brokerId", "1",
                "statefulset.kubernetes.io/pod-name", "kafka-0"), Map.of(), List.of("10.0.0.1"))).selected()).isTrue();
    }

    @Test
    void namespaceMustOptIn() {
        PodFacts pod = pod(Map.of("brokerId", "1"), Map.of(), List.of("10.0.0.1"));
        assertThat(Selection.evaluate(ANY_OF, new NamespaceFacts("kafka", Map.of(), false), pod).selected()).isFalse();
        assertThat(Selection.evaluate(ANY_OF, new NamespaceFacts("kafka", Map.of("ip-reserve", "enable"), false), pod)
                .selected()).isFalse();
        assertThat(Selection.evaluate(ANY_OF, null, pod).selected()).isFalse();
    }

    @Test
    void namespaceBeingDeletedNeedsNoReservation() {
        PodFacts pod = pod(Map.of("brokerId", "1"), Map.of(), List.of("10.0.0.1"));
        Selection.Verdict verdict = Selection.evaluate(ANY_OF,
                new NamespaceFacts("kafka", Map.of("ip-reserve", "enabled"), true), pod);
        assertThat(verdict.selected()).isFalse();
        assertThat(verdict.why()).contains("being deleted");
    }

    @Test
    void podWithoutIpIsIgnored() {
        assertThat(Selection.evaluate(ANY_OF, OPTED_IN, pod(Map.of("brokerId", "1"), Map.of(), List.of())).selected())
                .isFalse();
    }

    @Test
    void annotationForcesOptInAndOptOut() {
        assertThat(Selection.evaluate(ANY_OF, OPTED_IN, pod(Map.of(), Map.of("capo.io/ip-reserve", "true"),
                List.of("10.0.0.1"))).selected()).isTrue();
        assertThat(Selection.evaluate(ANY_OF, OPTED_IN, pod(Map.of("brokerId", "1"),
                Map.of("capo.io/ip-reserve", "false"), List.of("10.0.0.1"))).selected()).isFalse();
    }

    @Test
    void annotationOverridesTheTtlAndAMalformedOneIsIgnored() {
        assertThat(Selection.evaluate(ANY_OF, OPTED_IN, pod(Map.of("brokerId", "1"),
                Map.of("capo.io/ip-reserve-time", "2h"), List.of("10.0.0.1"))).ttl()).isEqualTo(Duration.ofHours(2));
        Selection.Verdict bad = Selection.evaluate(ANY_OF, OPTED_IN, pod(Map.of("brokerId", "1"),
                Map.of("capo.io/ip-reserve-time", "two hours"), List.of("10.0.0.1")));
        assertThat(bad.selected()).isTrue();
        assertThat(bad.ttl()).isNull();
    }
}
