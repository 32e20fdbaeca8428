package io.capo.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ReleasePolicyTest {

    private static final Duration HOUR = Duration.ofHours(1);
    private static final Duration MINUTE = Duration.ofMinutes(1);

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("zero ttl", Duration.ZERO, 10, MINUTE, Map.of()),
                Arguments.of("negative ttl", HOUR.negated(), 10, MINUTE, Map.of()),
                Arguments.of("null ttl", null, 10, MINUTE, Map.of()),
                Arguments.of("negative maxCount", HOUR, -1, MINUTE, Map.of()),
                Arguments.of("zero staleGrace", HOUR, 10, Duration.ZERO, Map.of()),
                Arguments.of("negative staleGrace", HOUR, 10, MINUTE.negated(), Map.of()),
                Arguments.of("null staleGrace", HOUR, 10, null, Map.of()),
                Arguments.of("zero namespace ttl", HOUR, 10, MINUTE, Map.of("db", Duration.ZERO)),
                Arguments.of("negative namespace ttl", HOUR, 10, MINUTE, Map.of("db", HOUR.negated())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void rejectsInvalidValues(String name, Duration ttl, int maxCount, Duration grace, Map<String, Duration> ns) {
        assertThatThrownBy(() -> new ReleasePolicy(ttl, maxCount, grace, ns))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsNullNamespaceTtlValue() {
        Map<String, Duration> ns = new HashMap<>();
        ns.put("db", null);
        assertThatThrownBy(() -> new ReleasePolicy(HOUR, 1, MINUTE, ns)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void acceptsZeroMaxCountAndMissingNamespaceMap() {
        ReleasePolicy policy = new ReleasePolicy(HOUR, 0, MINUTE, null);

        assertThat(policy.maxCount()).isZero();
        assertThat(policy.namespaceTtl()).isEmpty();
        assertThat(policy).isEqualTo(new ReleasePolicy(HOUR, 0, MINUTE));
    }

    @Test
    void namespaceTtlIsCopiedAndOverridesGlobal() {
        Map<String, Duration> ns = new HashMap<>(Map.of("db", MINUTE));
        ReleasePolicy policy = new ReleasePolicy(HOUR, 1, MINUTE, ns);
        ns.put("web", MINUTE);

        assertThat(policy.namespaceTtl()).containsOnlyKeys("db");
        assertThat(policy.ttlFor("db")).isEqualTo(MINUTE);
        assertThat(policy.ttlFor("web")).isEqualTo(HOUR);
        assertThatThrownBy(() -> policy.namespaceTtl().put("x", HOUR))
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
