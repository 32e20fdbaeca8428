package io.capo.reservation;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Map;

/**
 * Go {@code time.Duration} text ({@code 40m}, {@code 1h30m}, {@code 1.5h}, {@code 300ms}) to and from {@link Duration}.
 * ISO-8601 ({@code PT40M}) is accepted on input as well.
 */
public final class GoDuration {

    private static final BigDecimal NANOS_PER_SECOND = BigDecimal.valueOf(1_000_000_000L);

    private static final Map<String, BigDecimal> UNIT_NANOS = Map.of(
            "ns", BigDecimal.ONE,
            "us", BigDecimal.valueOf(1_000L),
            "\u00b5s", BigDecimal.valueOf(1_000L),
            "\u03bcs", BigDecimal.valueOf(1_000L),
            "ms", BigDecimal.valueOf(1_000_000L),
            "s", NANOS_PER_SECOND,
            "m", BigDecimal.valueOf(60_000_000_000L),
            "h", BigDecimal.valueOf(3_600_000_000_000L));

    private GoDuration() {
    }

    /**
     * Parses Go duration syntax (optionally signed, a sequence of decimal numbers each followed by a unit out of
     * ns, us, µs, ms, s, m, h; "0" alone is zero) or an ISO-8601 duration such as PT40M.
     *
     * @throws IllegalArgumentException when the text is neither
     */
    public static Duration parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("duration is null");
        }
        String s = text.trim();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("duration is empty");
        }
        if (isIso(s)) {
            try {
                return Duration.parse(s);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("invalid ISO-8601 duration \"" + text + "\"", e);
            }
        }
        return parseGo(text, s);
    }

    private static boolean isIso(String s) {
        int i = s.charAt(0) == '-' || s.charAt(0) == '+' ? 1 : 0;
        return i < s.length() && (s.charAt(i) == 'P' || s.charAt(i) == 'p');
    }

    private static Duration parseGo(String original, String s) {
        boolean negative = false;
        int i = 0;
        if (s.charAt(0) == '-' || s.charAt(0) == '+') {
            negative = s.charAt(0) == '-';
            i = 1;
        }
        String body = s.substring(i);
        if (body.equals("0")) {
            return Duration.ZERO;
        }
        if (body.isEmpty()) {
            throw invalid(original, "no number");
        }
        BigDecimal totalNanos = BigDecimal.ZERO;
        int pos = 0;
        while (pos < body.length()) {
            int numberStart = pos;
            while (pos < body.length() && (Character.isDigit(body.charAt(pos)) || body.charAt(pos) == '.')) {
                pos++;
            }
            String number = body.substring(numberStart, pos);
            if (number.isEmpty() || number.equals(".") || number.indexOf('.') != number.lastIndexOf('.')) {
                throw invalid(original, "expected a number at position " + (i + numberStart));
            }
            int unitStart = pos;
            while (pos < body.length() && !Character.isDigit(body.charAt(pos)) && body.charAt(pos) != '.') {
                pos++;
            }
            String unit = body.substring(unitStart, pos);
            if (unit.isEmpty()) {
                throw invalid(original, "missing unit after " + number + " (use ns, us, ms, s, m or h)");
            }
            BigDecimal unitNanos = UNIT_NANOS.get(unit);
            if (unitNanos == null) {
                throw invalid(original, "unknown unit \"" + unit + "\" (use ns, us, ms, s, m or h)");
            }
            totalNanos = totalNanos.add(new BigDecimal(number).multiply(unitNanos));
        }
        if (negative) {
            totalNanos = totalNanos.negate();
        }
        try {
            // fractions below one nanosecond are dropped, as Go does
            BigDecimal[] secondsAndNanos = totalNanos.setScale(0, RoundingMode.DOWN)
                    .divideAndRemainder(NANOS_PER_SECOND);
            return Duration.ofSeconds(secondsAndNanos[0].longValueExact(), secondsAndNanos[1].longValueExact());
        } catch (ArithmeticException e) {
            throw invalid(original, "out of range");
        }
    }

    private static IllegalArgumentException invalid(String text, String reason) {
        return new IllegalArgumentException("invalid duration \"" + text + "\": " + reason);
    }

    /**
     * Compact Go-style text that {@link #parse} reads back to the same value: zero parts are left out
     * ({@code 1h30m}, {@code 5s}, {@code 1h0.5s}), durations under a second use ms, us or ns ({@code 300ms}),
     * zero is {@code 0s}.
     */
    public static String format(Duration duration) {
        if (duration.isZero()) {
            return "0s";
        }
        if (duration.isNegative()) {
            return "-" + format(duration.negated());
        }
        long seconds = duration.getSeconds();
        int nanos = duration.getNano();
        if (seconds == 0) {
            if (nanos >= 1_000_000) {
                return decimal(BigDecimal.valueOf(nanos, 6)) + "ms";
            }
            if (nanos >= 1_000) {
                return decimal(BigDecimal.valueOf(nanos, 3)) + "us";
            }
            return nanos + "ns";
        }
        StringBuilder out = new StringBuilder();
        long hours = seconds / 3600;
        long minutes = seconds % 3600 / 60;
        long secs = seconds % 60;
        if (hours > 0) {
            out.append(hours).append('h');
        }
        if (minutes > 0) {
            out.append(minutes).append('m');
        }
        if (secs > 0 || nanos > 0) {
            out.append(decimal(BigDecimal.valueOf(secs).add(BigDecimal.valueOf(nanos, 9)))).append('s');
        }
        return out.toString();
    }

    private static String decimal(BigDecimal value) {
        return value.stripTrailingZeros().toPlainString();
    }
}
