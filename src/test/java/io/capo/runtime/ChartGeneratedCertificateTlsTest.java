package io.capo.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import io.capo.deploy.ChartRenderer;
import io.capo.deploy.Manifests;
import org.apache.camel.support.jsse.SSLContextParameters;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The certificate the chart generates without cert-manager (webhook.generatedCert.keyAlgorithm RSA or ECDSA), as
 * Capo's webhook server reads it: {@link WebhookTls} accepts the Secret's tls.crt and tls.key, and a client that
 * trusts only the Secret's ca.crt and checks the host name the API server uses completes a TLS handshake with a
 * server using Capo's SSL parameters, on the key type asked for.
 */
class ChartGeneratedCertificateTlsTest {

    @ParameterizedTest
    @ValueSource(strings = {"RSA", "ECDSA"})
    void capoServesTheGeneratedCertificate(String algorithm, @TempDir Path dir) throws Exception {
        Manifests m = Manifests.of(ChartRenderer.render(null, "capo", "ip-reserve", Map.of(
                "webhook.certManager.enabled", false, "webhook.generatedCert.reuseExisting", false,
                "webhook.generatedCert.keyAlgorithm", algorithm)));
        JsonNode data = m.one("Secret", "capo-webhook-tls").path("data");
        for (String file : List.of("tls.crt", "tls.key")) {
            Files.write(dir.resolve(file), Base64.getDecoder().decode(data.path(file).asText()));
        }
        SSLContextParameters parameters = new WebhookTls(dir, HttpLimits.defaults(),
                WebhookClientAuth.from(new Properties(), reason -> { }, reason -> { }), reason -> { }, Clock.systemUTC())
                .sslContextParameters();
        SSLContext server = parameters.createSSLContext(null);

        X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(Base64.getDecoder().decode(data.path("ca.crt").asText())));
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext client = SSLContext.getInstance("TLS");
        client.init(null, tmf.getTrustManagers(), null);

        try (SSLServerSocket listener = (SSLServerSocket) server.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> accepted = CompletableFuture.runAsync(() -> {
                try (SSLSocket socket = (SSLSocket) listener.accept()) {
                    socket.startHandshake();
                    InputStream in = socket.getInputStream();
                    OutputStream out = socket.getOutputStream();
                    out.write(in.read());
                    out.flush();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SSLSocket socket = (SSLSocket) client.getSocketFactory()
                    .createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                SSLParameters p = socket.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                p.setServerNames(List.of(new SNIHostName("capo-webhook-service.ip-reserve.svc")));
                socket.setSSLParameters(p);
                // host name verification against the SNI name: the name the API server calls
                socket.startHandshake();
                socket.getOutputStream().write(42);
                socket.getOutputStream().flush();
                assertThat(socket.getInputStream().read()).isEqualTo(42);
                X509Certificate served = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                assertThat(served.getPublicKey().getAlgorithm()).isEqualTo(algorithm.equals("ECDSA") ? "EC" : "RSA");
                assertThat(socket.getSession().getCipherSuite()).isNotEmpty();
            }
            accepted.get(10, TimeUnit.SECONDS);
        }
    }
}
