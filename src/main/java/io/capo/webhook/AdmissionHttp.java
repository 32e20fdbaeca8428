package io.capo.webhook;

import java.util.Locale;

/**
 * The HTTP checks before an AdmissionReview is read: POST with a JSON body. Media types and the charset parameter
 * are compared case-insensitively (RFC 9110), which Vert.x Web's {@code consumes} does not do.
 */
public final class AdmissionHttp {

    /** Throws {@link MethodNotAllowedException} or {@link UnsupportedMediaTypeException} for a request to refuse. */
    public void check(String method, String contentType) {
        if (!"POST".equals(method)) {
            throw new MethodNotAllowedException("method " + method + " is not allowed: POST an AdmissionReview");
        }
        if (contentType == null || contentType.isBlank()) {
            throw new UnsupportedMediaTypeException("no Content-Type: send application/json");
        }
        String[] parts = contentType.split(";");
        if (!"application/json".equals(parts[0].trim().toLowerCase(Locale.ROOT))) {
            throw new UnsupportedMediaTypeException("Content-Type '" + contentType.trim()
                    + "' is not supported: send application/json");
        }
        for (int i = 1; i < parts.length; i++) {
            String[] parameter = parts[i].split("=", 2);
            if (parameter[0].trim().equalsIgnoreCase("charset") && parameter.length == 2
                    && !unquote(parameter[1].trim()).equalsIgnoreCase("utf-8")) {
                throw new UnsupportedMediaTypeException("charset '" + parameter[1].trim()
                        + "' is not supported: JSON is sent as UTF-8");
            }
        }
    }

    private static String unquote(String value) {
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
                ? value.substring(1, value.length() - 1) : value;
    }
}
