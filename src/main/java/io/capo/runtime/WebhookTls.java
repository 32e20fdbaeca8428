package io.capo.runtime;

import io.vertx.core.http.HttpServer;
import io.vertx.core.net.SSLOptions;
import io.vertx.core.net.impl.KeyStoreHelper;
import org.apache.camel.support.jsse.KeyManagersParameters;
import org.apache.camel.support.jsse.KeyStoreParameters;
import org.apache.camel.support.jsse.SSLContextParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The webhook's serving certificate, read from PEM files as cert-manager writes them ({@code tls.crt},
 * {@code tls.key}, RSA or ECDSA, PKCS#1 or PKCS#8), and swapped into the running HTTPS server when they change:
 * Camel itself never reloads certificates. Every pair is checked first ({@link ServingCertificate}): a pair that
 * would break every TLS handshake is refused at start, and at run time the pair in use stays.
 */
public final class WebhookTls {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookTls.class);

    private final Path certFile;
    private final Path keyFile;
    private final HttpLimits limits;
    private final Consumer<String> refused;
    private final Clock clock;
    private final WebhookClientAuth clientAuth;
    /** The pair in use, for a change of the client CA file (an update replaces all SSL options). */
    private volatile ServingCertificate serving;

    WebhookTls(Path certDir, HttpLimits limits, WebhookClientAuth clientAuth, Consumer<String> refused, Clock clock) {
        this.certFile = certDir.resolve("tls.crt");
        this.keyFile = certDir.resolve("tls.key");
        this.limits = limits;
        this.clientAuth = clientAuth;
        this.refused = refused;
        this.clock = clock;
    }

    /** The client CA file when client certificates are required, else empty. */
    Optional<Path> clientCaFile() {
        return Optional.ofNullable(clientAuth.caFile());
    }

    public Path certFile() {
        return certFile;
    }

    /**
     * SSL parameters for the webhook server; fails with a message naming the file and the problem. An expired
     * certificate only warns: Capo then still releases, backstops and serves health while cert-manager renews,
     * and picks the renewed pair up within seconds (a pod that refused to start would wait for its restart backoff).
     */
    public SSLContextParameters sslContextParameters() {
        ServingCertificate certificate;
        try {
            certificate = ServingCertificate.load(certFile, keyFile);
        } catch (ServingCertificate.Problem e) {
            throw new IllegalStateException("cannot use webhook certificate: " + e.getMessage());
        }
        if (certificate.expiredAt(clock.instant())) {
            LOG.warn("webhook certificate {} has expired ({}): TLS handshakes will fail until it is renewed",
                    certFile, certificate.describe());
        }
        serving = certificate;
        KeyStore keyStore;
        try {
            keyStore = certificate.pem().loadKeyStore(null);
        } catch (Exception e) {
            throw new IllegalStateException("cannot use webhook certificate " + certFile + " with key " + keyFile + ": "
                    + e.getMessage(), e);
        }
        KeyStoreParameters store = new KeyStoreParameters();
        store.setKeyStore(keyStore);
        store.setPassword(KeyStoreHelper.DUMMY_PASSWORD);
        KeyManagersParameters keys = new KeyManagersParameters();
        keys.setKeyStore(store);
        keys.setKeyPassword(KeyStoreHelper.DUMMY_PASSWORD);
        SSLContextParameters parameters = new SSLContextParameters();
        parameters.setKeyManagers(keys);
        return parameters;
    }

    /**
     * Puts the current files into the running server. A pair that cannot be used (half written, key and certificate
     * not matching, already expired) is refused with one warning and counted; the pair in use stays, and the next
     * change of the files is tried again.
     */
    public boolean reload(HttpServer server) {
        ServingCertificate certificate;
        try {
            certificate = ServingCertificate.load(certFile, keyFile);
            if (certificate.expiredAt(clock.instant())) {
                throw new ServingCertificate.Problem(ServingCertificate.Problem.EXPIRED, certFile + " has expired ("
                        + certificate.describe() + ")");
            }
        } catch (ServingCertificate.Problem e) {
            refused.accept(e.reason());
            LOG.warn("webhook certificate change refused, still serving the previous certificate: {}; "
                    + "the next change of {} or {} is tried again", e.getMessage(), certFile, keyFile);
            return false;
        }
        boolean updated = update(server, certificate, "update-failed", certFile);
        if (updated) {
            serving = certificate;
            LOG.info("webhook certificate reloaded from {} ({})", certFile, certificate.describe());
        }
        return updated;
    }

    /**
     * Puts the current client CA file into the running server, with the serving pair in use. A file that cannot be
     * used is refused with one warning and counted ({@link WebhookClientAuth#reload}); the CAs in use stay.
     */
    public boolean reloadClientCa(HttpServer server) {
        if (!clientAuth.reload()) {
            return false;
        }
        boolean updated = update(server, serving, "client-ca-update-failed", clientAuth.caFile());
        if (updated) {
            LOG.info("webhook client CA file reloaded from {}", clientAuth.caFile());
        }
        return updated;
    }

    private boolean update(HttpServer server, ServingCertificate certificate, String failure, Path file) {
        try {
            SSLOptions options = clientAuth.apply(limits.apply(new SSLOptions().setKeyCertOptions(certificate.pem())));
            boolean updated = server.updateSSLOptions(options, true)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            if (!updated) {
                throw new IllegalStateException("the server kept its previous SSL options");
            }
            return true;
        } catch (Exception e) {
            refused.accept(failure);
            LOG.warn("webhook TLS change from {} could not be applied, still serving the previous certificate and "
                    + "CAs: {}", file, e.toString());
            return false;
        }
    }
}
