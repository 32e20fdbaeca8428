package io.capo.runtime;

import io.capo.testing.TestCertificates;
import org.apache.camel.support.jsse.KeyStoreParameters;
import org.apache.camel.support.jsse.SSLContextParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.interfaces.ECPrivateKey;
import java.util.Collections;

import static org.assertj.core.api.Assertions.assertThat;

class WebhookTlsTest {

    final TestCertificates certificates = new TestCertificates("tls-test-ca");

    /** The chart's option webhook.certManager.privateKey.algorithm=ECDSA: cert-manager writes a PKCS#8 EC key. */
    @Test
    void anEcdsaKeyAsCertManagerWritesItIsServed(@TempDir Path dir) throws Exception {
        Path certs = certificates.writeServingEcdsa(dir, "capo");
        assertThat(Files.readString(certs.resolve("tls.key"))).startsWith("-----BEGIN PRIVATE KEY-----");

        SSLContextParameters parameters = new WebhookTls(certs, HttpLimits.defaults(),
                WebhookClientAuth.from(new java.util.Properties(), reason -> { }, reason -> { }), reason -> {
        }, java.time.Clock.systemUTC()).sslContextParameters();
        KeyStoreParameters store = parameters.getKeyManagers().getKeyStore();
        KeyStore keyStore = store.createKeyStore();
        String alias = Collections.list(keyStore.aliases()).get(0);
        assertThat(keyStore.getKey(alias, store.getPassword().toCharArray())).isInstanceOf(ECPrivateKey.class);
        assertThat(parameters.createSSLContext(null)).isNotNull();
    }
}
