package io.capo.runtime;

import io.capo.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WebhookClientAuthTest {

    final List<String> refused = new ArrayList<>();

    WebhookClientAuth from(String... keyValues) {
        Properties properties = new Properties();
        for (int i = 0; i < keyValues.length; i += 2) {
            properties.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return WebhookClientAuth.from(properties, refused::add, reason -> { });
    }

    @Test
    void offWithoutACaFile() {
        WebhookClientAuth off = from();
        assertThat(off.enabled()).isFalse();
        assertThat(off.describe()).isEqualTo("off");
    }

    @Test
    void allowedNamesNeedACaFile() {
        assertThatThrownBy(() -> from(WebhookClientAuth.ALLOWED_NAMES, "kube-apiserver"))
                .hasMessageStartingWith("capo.tls.clientAllowedNames: needs capo.tls.clientCaFile");
    }

    @Test
    void anUnusableCaFileStopsTheStartNamingTheFile(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.crt");
        assertThatThrownBy(() -> from(WebhookClientAuth.CA_FILE, missing.toString()))
                .hasMessageStartingWith("cannot use client CA file: cannot read " + missing);
        Path key = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> from(WebhookClientAuth.CA_FILE, key.toString()))
                .hasMessageContaining("holds no PEM certificate");
    }

    @Test
    void aHalfWrittenCaFileIsRefusedAndTheCasInUseStay(@TempDir Path dir) throws Exception {
        String pem = new TestCertificates("client-ca").caPem();
        Path file = Files.writeString(dir.resolve("ca.crt"), pem);
        WebhookClientAuth auth = from(WebhookClientAuth.CA_FILE, file.toString(), WebhookClientAuth.ALLOWED_NAMES,
                "Kube-APIServer, capo-webhook-service.ip-reserve.svc");
        assertThat(auth.describe()).endsWith("allowed names capo-webhook-service.ip-reserve.svc,kube-apiserver");

        Files.writeString(file, pem.substring(0, pem.length() - 40));
        assertThat(auth.reload()).isFalse();
        assertThat(refused).containsExactly(WebhookClientAuth.CA_REFUSED);

        Files.writeString(file, pem + new TestCertificates("next-ca").caPem());
        assertThat(auth.reload()).isTrue();
        assertThat(refused).hasSize(1);
    }

    @Test
    void namesAreTheCommonNameAndTheDnsSans() {
        TestCertificates ca = new TestCertificates("client-ca");
        assertThat(WebhookClientAuth.names(ca.client("kube-apiserver", "a.svc", "b.svc").cert()))
                .containsExactly("kube-apiserver", "a.svc", "b.svc");
        assertThat(WebhookClientAuth.names(ca.client("only-cn").cert())).containsExactly("only-cn");
    }
}
