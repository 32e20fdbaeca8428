package io.capo.runtime;

import io.vertx.core.http.HttpServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HttpLimitsTest {

    static Properties properties(String... pairs) {
        Properties properties = new Properties();
        for (int i = 0; i < pairs.length; i += 2) {
            properties.setProperty(pairs[i], pairs[i + 1]);
        }
        return properties;
    }

    @Test
    void defaultsFitTheApiServer() {
        HttpLimits limits = HttpLimits.defaults();
        assertThat(limits.requestTimeout()).isEqualTo(Duration.ofSeconds(30));
        // longer than Go's IdleConnTimeout (90 s): the API server closes idle connections first
        assertThat(limits.idleTimeout()).isGreaterThan(Duration.ofSeconds(90));
        assertThat(limits.maxConnections()).isEqualTo(1000);
        assertThat(limits.cipherSuites()).allSatisfy(suite -> assertThat(suite)
                .matches("TLS_AES_.*|TLS_CHACHA20_.*|TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_\\d+_GCM|CHACHA20_POLY1305)_SHA\\d+"));
    }

    @Test
    void propertiesOverrideTheDefaultsAndReachTheServerOptions() {
        HttpLimits limits = HttpLimits.from(properties("capo.http.idleTimeout", "1m", "capo.http.requestTimeout", "10s",
                "capo.http.maxConnections", "50", "capo.http.maxHeaderSize", "4096",
                "capo.tls.cipherSuites", "TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "capo.tls.protocols", "TLSv1.3"));
        HttpServerOptions options = limits.apply(new HttpServerOptions().setSsl(true));

        assertThat(limits.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(limits.maxConnections()).isEqualTo(50);
        assertThat(options.getIdleTimeout()).isEqualTo(60);
        assertThat(options.getMaxHeaderSize()).isEqualTo(4096);
        assertThat(options.getEnabledCipherSuites())
                .containsExactly("TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assertThat(options.getEnabledSecureTransportProtocols()).containsExactly("TLSv1.3");
        // plain HTTP (management) gets the limits, not TLS settings
        assertThat(limits.apply(new HttpServerOptions()).getEnabledCipherSuites()).isEmpty();
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "capo.http.idleTimeout|soon|capo.http.idleTimeout: \"soon\" is not a duration",
            "capo.http.requestTimeout|0s|capo.http.requestTimeout: must be at least 1s",
            "capo.http.maxConnections|many|capo.http.maxConnections: \"many\" is not a whole number",
            "capo.http.maxConnections|0|capo.http.maxConnections: must be at least 1",
            "capo.http.maxHeaderSize|10|capo.http.maxHeaderSize: must be at least 1024",
            "capo.tls.cipherSuites|TLS_NO_SUCH_SUITE|capo.tls.cipherSuites: \"TLS_NO_SUCH_SUITE\" is not supported",
            "capo.tls.protocols|SSLv2|capo.tls.protocols: \"SSLv2\" is not supported",
            "capo.tls.protocols|' , '|capo.tls.protocols: must name at least one value"})
    void aBadValueNamesTheProperty(String key, String value, String message) {
        assertThatThrownBy(() -> HttpLimits.from(properties(key, value))).hasMessageStartingWith(message);
    }
}
