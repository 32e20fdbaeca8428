package io.capo.reservation;

import java.util.regex.Pattern;

/** Kubernetes name rules (apimachinery validation), only what the settings need. */
public final class K8sNames {

    private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern QUALIFIED_NAME = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");

    private K8sNames() {
    }

    public static boolean isDns1123Subdomain(String value) {
        if (value == null || value.isEmpty() || value.length() > 253) {
            return false;
        }
        for (String label : value.split("\\.", -1)) {
            if (!DNS1123_LABEL.matcher(label).matches()) {
                return false;
            }
        }
        return true;
    }

    /** A label key: optional DNS-1123 subdomain prefix and '/', then a name of at most 63 characters. */
    public static boolean isLabelKey(String value) {
        if (value == null || value.isEmpty()) {
            return false;
        }
        int slash = value.indexOf('/');
        String name = value;
        if (slash >= 0) {
            if (!isDns1123Subdomain(value.substring(0, slash))) {
                return false;
            }
            name = value.substring(slash + 1);
        }
        return name.length() <= 63 && QUALIFIED_NAME.matcher(name).matches();
    }

    /** A label value: empty, or a name of at most 63 characters. */
    public static boolean isLabelValue(String value) {
        return value != null && (value.isEmpty() || value.length() <= 63 && QUALIFIED_NAME.matcher(value).matches());
    }
}
