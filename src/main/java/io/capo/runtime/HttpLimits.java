package io.capo.runtime;

import io.capo.reservation.GoDuration;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SSLOptions;

import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * Limits of Capo's HTTP servers and the TLS of the webhook server, read once at start from {@code capo.http.*}
 * and {@code capo.tls.*} properties (docs/configuration.md).
 *
 * @param idleTimeout          a connection with no request in flight is closed after this long; longer than the
 *                             API server's own idle limit (Go's 90 s), so that the API server closes first and never
 *                             sends a request on a connection Capo is closing
 * @param requestTimeout       a request must be received and answered within this long (from the connection's start
 *                             for its first request); the API server gives up on a webhook call after 30 s at most
 * @param maxConnections       open webhook connections; one more is closed as soon as it is accepted
 * @param maxHeaderSize        bytes of all request headers together (431 beyond)
 * @param maxInitialLineLength bytes of the request line (414 beyond)
 * @param protocols            TLS versions of the webhook server
 * @param cipherSuites         TLS cipher suites of the webhook server (TLS 1.3 and 1.2 names)
 */
public record HttpLimits(Duration idleTimeout, Duration requestTimeout, int maxConnections, int maxHeaderSize,
                         int maxInitialLineLength, List<String> protocols, List<String> cipherSuites) {

    public static final String PREFIX = "capo.http.";
    static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    /** TLS 1.3, and TLS 1.2 with forward secrecy (ECDHE) and an AEAD cipher only: no CBC, no SHA-1, no RSA kex. */
    static final List<String> DEFAULT_CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    public HttpLimits {
        requirePositive("idleTimeout", idleTimeout);
        requirePositive("requestTimeout", requestTimeout);
        if (maxConnections < 1) {
            throw invalid("maxConnections", "must be at least 1, got " + maxConnections);
        }
        if (maxHeaderSize < 1024) {
            throw invalid("maxHeaderSize", "must be at least 1024 bytes, got " + maxHeaderSize);
        }
        if (maxInitialLineLength < 256) {
            throw invalid("maxInitialLineLength", "must be at least 256 bytes, got " + maxInitialLineLength);
        }
        protocols = List.copyOf(protocols);
        cipherSuites = List.copyOf(cipherSuites);
        SSLParameters supported = supportedTls();
        requireSupported("capo.tls.protocols", protocols, supported.getProtocols());
        requireSupported("capo.tls.cipherSuites", cipherSuites, supported.getCipherSuites());
    }

    public static HttpLimits defaults() {
        return from(new Properties());
    }

    /** Reads {@code capo.http.*} and {@code capo.tls.*}; a bad value fails with a message naming the property. */
    public static HttpLimits from(Properties properties) {
        return new HttpLimits(
                duration(properties, "idleTimeout", "120s"),
                duration(properties, "requestTimeout", "30s"),
                integer(properties, "maxConnections", 1000),
                integer(properties, "maxHeaderSize", HttpServerOptions.DEFAULT_MAX_HEADER_SIZE),
                integer(properties, "maxInitialLineLength", HttpServerOptions.DEFAULT_MAX_INITIAL_LINE_LENGTH),
                list(properties, "capo.tls.protocols", DEFAULT_PROTOCOLS),
                list(properties, "capo.tls.cipherSuites", DEFAULT_CIPHER_SUITES));
    }

    /** Puts the limits into the options of a server about to be created; TLS settings only where TLS is on. */
    HttpServerOptions apply(HttpServerOptions options) {
        options.setIdleTimeout((int) idleTimeout.toSeconds()).setIdleTimeoutUnit(TimeUnit.SECONDS)
                .setMaxHeaderSize(maxHeaderSize).setMaxInitialLineLength(maxInitialLineLength);
        if (options.isSsl()) {
            options.setEnabledSecureTransportProtocols(new LinkedHashSet<>(protocols));
            options.getEnabledCipherSuites().clear();
            cipherSuites.forEach(options::addEnabledCipherSuite);
        }
        return options;
    }

    /** The same TLS settings for a certificate swapped in at run time (an update replaces all SSL options). */
    SSLOptions apply(SSLOptions options) {
        options.setEnabledSecureTransportProtocols(new LinkedHashSet<>(protocols));
        options.getEnabledCipherSuites().clear();
        cipherSuites.forEach(options::addEnabledCipherSuite);
        return options;
    }

    public String describe() {
        return "idleTimeout=" + GoDuration.format(idleTimeout) + " requestTimeout=" + GoDuration.format(requestTimeout)
                + " maxConnections=" + maxConnections + " maxHeaderSize=" + maxHeaderSize
                + " maxInitialLineLength=" + maxInitialLineLength + " tls.protocols=" + String.join(",", protocols)
                + " tls.cipherSuites=" + String.join(",", cipherSuites);
    }

    private static Duration duration(Properties properties, String key, String fallback) {
        String value = properties.getProperty(PREFIX + key, fallback).trim();
        try {
            return GoDuration.parse(value);
        } catch (RuntimeException e) {
            throw invalid(key, "\"" + value + "\" is not a duration (e.g. 30s, 2m)");
        }
    }

    private static int integer(Properties properties, String key, int fallback) {
        String value = properties.getProperty(PREFIX + key);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw invalid(key, "\"" + value.trim() + "\" is not a whole number");
        }
    }

    private static List<String> list(Properties properties, String key, List<String> fallback) {
        String value = properties.getProperty(key);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        List<String> items = Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        if (items.isEmpty()) {
            throw new IllegalArgumentException(key + ": must name at least one value");
        }
        return items;
    }

    private static void requirePositive(String key, Duration value) {
        if (value == null || value.isNegative() || value.isZero() || value.toMillis() < 1000) {
            throw invalid(key, "must be at least 1s, got " + (value == null ? "nothing" : GoDuration.format(value)));
        }
    }

    private static void requireSupported(String key, List<String> values, String[] supported) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException(key + ": must name at least one value");
        }
        Set<String> known = Set.of(supported);
        for (String value : values) {
            if (!known.contains(value)) {
                throw new IllegalArgumentException(key + ": \"" + value + "\" is not supported by this JVM");
            }
        }
    }

    private static SSLParameters supportedTls() {
        try {
            return SSLContext.getDefault().getSupportedSSLParameters();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no TLS in this JVM", e);
        }
    }

    private static IllegalArgumentException invalid(String key, String problem) {
        return new IllegalArgumentException(PREFIX + key + ": " + problem);
    }
}
