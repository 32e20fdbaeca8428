package io.capo.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A Prometheus text exposition, parsed: the samples, with sums and histogram quantiles over label subsets. */
final class PromText {

    record Sample(String name, Map<String, String> labels, double value) {
        boolean matches(Map<String, String> wanted) {
            for (Map.Entry<String, String> e : wanted.entrySet()) {
                if (!e.getValue().equals(labels.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
    }

    private final List<Sample> samples;

    private PromText(List<Sample> samples) {
        this.samples = samples;
    }

    static PromText parse(String body) {
        List<Sample> out = new ArrayList<>();
        for (String raw : body.split("\n")) {
            String line = raw.trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.indexOf(' ');
            String name;
            Map<String, String> labels = new LinkedHashMap<>();
            String rest;
            if (brace >= 0 && (space < 0 || brace < space)) {
                name = line.substring(0, brace);
                int i = brace + 1;
                while (i < line.length() && line.charAt(i) != '}') {
                    int eq = line.indexOf('=', i);
                    String key = line.substring(i, eq).trim();
                    StringBuilder value = new StringBuilder();
                    int j = eq + 2; // skip ="
                    while (line.charAt(j) != '"') {
                        char c = line.charAt(j);
                        if (c == '\\') {
                            char n = line.charAt(++j);
                            value.append(n == 'n' ? '\n' : n);
                        } else {
                            value.append(c);
                        }
                        j++;
                    }
                    labels.put(key, value.toString());
                    i = j + 1;
                    if (i < line.length() && line.charAt(i) == ',') {
                        i++;
                    }
                }
                rest = line.substring(i + 1).trim();
            } else {
                name = line.substring(0, space);
                rest = line.substring(space + 1).trim();
            }
            String number = rest.split("\\s+")[0];
            out.add(new Sample(name, labels, parseValue(number)));
        }
        return new PromText(out);
    }

    private static double parseValue(String text) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(text);
        };
    }

    static Map<String, String> labels(String... keyValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            m.put(keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    double sum(String name, String... keyValues) {
        Map<String, String> wanted = labels(keyValues);
        return samples.stream().filter(s -> s.name().equals(name) && s.matches(wanted))
                .mapToDouble(Sample::value).sum();
    }

    /** Sums by the values of the given label keys, e.g. {@code delete/reserved}. */
    Map<String, Double> byLabels(String name, String... keys) {
        Map<String, Double> out = new TreeMap<>();
        for (Sample s : samples) {
            if (s.name().equals(name)) {
                StringBuilder key = new StringBuilder();
                for (String k : keys) {
                    key.append(key.length() == 0 ? "" : "/").append(s.labels().getOrDefault(k, ""));
                }
                out.merge(key.toString(), s.value(), Double::sum);
            }
        }
        return out;
    }

    double max(String name, String... keyValues) {
        Map<String, String> wanted = labels(keyValues);
        return samples.stream().filter(s -> s.name().equals(name) && s.matches(wanted))
                .mapToDouble(Sample::value).max().orElse(0);
    }

    /** Cumulative bucket counts by upper bound, summed over every series of the histogram matching the labels. */
    Histogram histogram(String name, String... keyValues) {
        Map<String, String> wanted = labels(keyValues);
        TreeMap<Double, Double> buckets = new TreeMap<>();
        for (Sample s : samples) {
            if (s.name().equals(name + "_bucket") && s.matches(wanted)) {
                buckets.merge(parseValue(s.labels().get("le")), s.value(), Double::sum);
            }
        }
        return new Histogram(buckets);
    }

    /** Cumulative histogram (upper bound → count); subtract an earlier one to get what happened in between. */
    record Histogram(TreeMap<Double, Double> buckets) {

        Histogram minus(Histogram earlier) {
            TreeMap<Double, Double> out = new TreeMap<>();
            buckets.forEach((le, count) -> out.put(le, count - earlier.buckets().getOrDefault(le, 0.0)));
            return new Histogram(out);
        }

        Histogram plus(Histogram other) {
            TreeMap<Double, Double> out = new TreeMap<>(buckets);
            other.buckets().forEach((le, count) -> out.merge(le, count, Double::sum));
            return new Histogram(out);
        }

        double count() {
            return buckets.isEmpty() ? 0 : buckets.lastEntry().getValue();
        }

        /** Share of observations at or below the bound (the bound must be a bucket boundary to be exact). */
        double shareAtMost(double bound) {
            double total = count();
            if (total == 0) {
                return Double.NaN;
            }
            Map.Entry<Double, Double> e = buckets.floorEntry(bound);
            return e == null ? 0 : e.getValue() / total;
        }

        /** The upper bound of the bucket holding the q-quantile (what the histogram can promise: "at most"). */
        double upperBound(double q) {
            double total = count();
            if (total == 0) {
                return Double.NaN;
            }
            double rank = q * total;
            for (Map.Entry<Double, Double> e : buckets.entrySet()) {
                if (e.getValue() >= rank) {
                    return e.getKey();
                }
            }
            return Double.POSITIVE_INFINITY;
        }

        /** Linear interpolation inside the bucket, as Prometheus' histogram_quantile() does. */
        double quantile(double q) {
            double total = count();
            if (total == 0) {
                return Double.NaN;
            }
            double rank = q * total;
            double lowerBound = 0;
            double lowerCount = 0;
            for (Map.Entry<Double, Double> e : buckets.entrySet()) {
                if (e.getValue() >= rank) {
                    if (e.getKey().isInfinite()) {
                        return lowerBound;
                    }
                    double inBucket = e.getValue() - lowerCount;
                    return inBucket <= 0 ? e.getKey()
                            : lowerBound + (e.getKey() - lowerBound) * (rank - lowerCount) / inBucket;
                }
                lowerBound = e.getKey();
                lowerCount = e.getValue();
            }
            return lowerBound;
        }
    }
}
