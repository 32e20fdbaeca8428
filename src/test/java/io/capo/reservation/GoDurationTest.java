package io.capo.reservation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class GoDurationTest {

    static Stream<Arguments> valid() {
        return Stream.of(
                Arguments.of("40m", Duration.ofMinutes(40)),
                Arguments.of("5s", Duration.ofSeconds(5)),
                Arguments.of("1h30m", Duration.ofMinutes(90)),
                Arguments.of("300ms", Duration.ofMillis(300)),
                Arguments.of("1.5h", Duration.ofMinutes(90)),
                Arguments.of("2h45m30s", Duration.ofSeconds(2 * 3600 + 45 * 60 + 30)),
                Arguments.of("0", Duration.ZERO),
                Arguments.of("0s", Duration.ZERO),
                Arguments.of("-5s", Duration.ofSeconds(-5)),
                Arguments.of("+5s", Duration.ofSeconds(5)),
                Arguments.of(".5s", Duration.ofMillis(500)),
                Arguments.of("1.s", Duration.ofSeconds(1)),
                Arguments.of("10us", Duration.ofNanos(10_000)),
                Arguments.of("10\u00b5s", Duration.ofNanos(10_000)),
                Arguments.of("7ns", Duration.ofNanos(7)),
                Arguments.of("1h0.5s", Duration.ofMillis(3_600_500)),
                Arguments.of(" 40m ", Duration.ofMinutes(40)),
                Arguments.of("PT40M", Duration.ofMinutes(40)),
                Arguments.of("pt1h30m", Duration.ofMinutes(90)),
                Arguments.of("PT0.3S", Duration.ofMillis(300)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void parsesGoAndIsoSyntax(String text, Duration expected) {
        assertThat(GoDuration.parse(text)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "  ", "forty", "40", "5", "m", "1x", "1hh", "1.2.3s", ".s", "-", "40 m", "5S",
            "PT", "PTforty", "1h-5m", "99999999999999999999h"})
    void rejectsBadInput(String text) {
        assertThatThrownBy(() -> GoDuration.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duration");
    }

    @Test
    void rejectsNull() {
        assertThatThrownBy(() -> GoDuration.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void namesTheProblem() {
        assertThatThrownBy(() -> GoDuration.parse("40")).hasMessageContaining("missing unit");
        assertThatThrownBy(() -> GoDuration.parse("4d")).hasMessageContaining("unknown unit \"d\"");
    }

    static Stream<Arguments> formats() {
        return Stream.of(
                Arguments.of(Duration.ZERO, "0s"),
                Arguments.of(Duration.ofMinutes(40), "40m"),
                Arguments.of(Duration.ofMinutes(90), "1h30m"),
                Arguments.of(Duration.ofSeconds(5), "5s"),
                Arguments.of(Duration.ofMillis(300), "300ms"),
                Arguments.of(Duration.ofMillis(1500), "1.5s"),
                Arguments.of(Duration.ofNanos(1_500_000), "1.5ms"),
                Arguments.of(Duration.ofNanos(2_000), "2us"),
                Arguments.of(Duration.ofNanos(7), "7ns"),
                Arguments.of(Duration.ofHours(1).plusSeconds(5), "1h5s"),
                Arguments.of(Duration.ofHours(49), "49h"),
                Arguments.of(Duration.ofSeconds(2 * 3600 + 45 * 60 + 30), "2h45m30s"),
                Arguments.of(Duration.ofSeconds(-90), "-1m30s"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("formats")
    void formatsCompactlyAndRoundTrips(Duration duration, String expected) {
        assertThat(GoDuration.format(duration)).isEqualTo(expected);
        assertThat(GoDuration.parse(expected)).isEqualTo(duration);
    }
}
