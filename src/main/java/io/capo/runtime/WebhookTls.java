package io.capo.runtime;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SSLOptions;
import io.vertx.core.net.impl.KeyStoreHelper;
import org.apache.camel.support.jsse.KeyManagersParameters;
import org.apache.camel.support.jsse.KeyStoreParameters;
import org.apache.camel.support.jsse.SSLContextParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;

/**
 * The webhook's serving certificate, read from PEM files as cert-manager writes them ({@code tls.crt},
 * {@code tls.key}, PKCS#1 or PKCS#8), and swapped into the running HTTPS server when they change: Camel
 * itself never reloads certificates.
 */
public final class WebhookTls {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookTls.class);

    private final Path certFile;
    private final Path keyFile;

    public WebhookTls(Path certDir) {
        this.certFile = certDir.resolve("tls.crt");
        this.keyFile = certDir.resolve("tls.key");
    }

    public Path certFile() {
        return certFile;
    }

    public Path keyFile() {
        return keyFile;
    }

    /** SSL parameters for the webhook server; fails with a message naming the file that cannot be used. */
    public SSLContextParameters sslContextParameters() {
        PemKeyCertOptions pem = pem();
        KeyStore keyStore;
        try {
            keyStore = pem.loadKeyStore(null);
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

    /** Puts the current files into the running server; a bad pair is refused and the old one stays. */
    public boolean reload(HttpServer server) {
        try {
            PemKeyCertOptions pem = pem();
            pem.loadKeyStore(null);
            boolean updated = server.updateSSLOptions(new SSLOptions().setKeyCertOptions(pem), true)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            LOG.info("webhook certificate reloaded from {} (applied: {})", certFile, updated);
            return updated;
        } catch (Exception e) {
            LOG.error("webhook certificate change refused, keeping the current one: {}", e.getMessage());
            return false;
        }
    }

    private PemKeyCertOptions pem() {
        return new PemKeyCertOptions().setCertValue(read(certFile)).setKeyValue(read(keyFile));
    }

    private static Buffer read(Path file) {
        try {
            return Buffer.buffer(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read webhook certificate file " + file + ": " + e, e);
        }
    }
}
