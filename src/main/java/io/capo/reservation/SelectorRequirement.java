package io.capo.reservation;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One Kubernetes label selector requirement ({@code matchExpressions} item).
 *
 * @param key      label key
 * @param operator In, NotIn, Exists or DoesNotExist (case-sensitive, as in Kubernetes)
 * @param values   required for In and NotIn, must be empty for Exists and DoesNotExist
 */
public record SelectorRequirement(String key, String operator, List<String> values) {

    public static final String IN = "In";
    public static final String NOT_IN = "NotIn";
    public static final String EXISTS = "Exists";
    public static final String DOES_NOT_EXIST = "DoesNotExist";

    private static final Set<String> OPERATORS = Set.of(IN, NOT_IN, EXISTS, DOES_NOT_EXIST);

    public SelectorRequirement {
        if (!K8sNames.isLabelKey(key)) {
            throw new IllegalArgumentException("key: \"" + (key == null ? "" : key) + "\" is not a valid label key");
        }
        if (operator == null || !OPERATORS.contains(operator)) {
            throw new IllegalArgumentException(
                    "operator: \"" + operator + "\" is not one of In, NotIn, Exists, DoesNotExist");
        }
        values = values == null ? List.of() : List.copyOf(values);
        boolean needsValues = operator.equals(IN) || operator.equals(NOT_IN);
        if (needsValues && values.isEmpty()) {
            throw new IllegalArgumentException("values: operator " + operator + " needs at least one value");
        }
        if (!needsValues && !values.isEmpty()) {
            throw new IllegalArgumentException("values: operator " + operator + " must not have values");
        }
        for (String value : values) {
            if (!K8sNames.isLabelValue(value)) {
                throw new IllegalArgumentException("values: \"" + value + "\" is not a valid label value");
            }
        }
    }

    public static SelectorRequirement exists(String key) {
        return new SelectorRequirement(key, EXISTS, List.of());
    }

    /** Kubernetes semantics: NotIn and DoesNotExist match a pod without the label. */
    public boolean matches(Map<String, String> labels) {
        String value = labels.get(key);
        return switch (operator) {
            case IN -> value != null && values.contains(value);
            case NOT_IN -> value == null || !values.contains(value);
            case EXISTS -> value != null;
            case DOES_NOT_EXIST -> value == null;
            default -> throw new IllegalStateException(operator);
        };
    }

    @Override
    public String toString() {
        return values.isEmpty() ? key + " " + operator : key + " " + operator + " (" + String.join(",", values) + ")";
    }
}
