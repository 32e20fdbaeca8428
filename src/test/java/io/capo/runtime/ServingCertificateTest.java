package io.capo.runtime;

import io.capo.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The checks a certificate pair passes before it is served. */
class ServingCertificateTest {

    static final TestCertificates CA = new TestCertificates("serving-test-ca");
    static final Instant IN_TWO_DAYS = Instant.now().plus(Duration.ofDays(2));

    @TempDir
    Path dir;

    ServingCertificate load() throws ServingCertificate.Problem {
        return ServingCertificate.load(dir.resolve("tls.crt"), dir.resolve("tls.key"));
    }

    @ParameterizedTest(name = "{0} key, PKCS#8: {1}")
    @CsvSource({"RSA, false", "RSA, true", "EC, false", "EC, true"})
    void matchingPairsInTheFormatsCertManagerWritesAreAccepted(String algorithm, boolean pkcs8) throws Exception {
        TestCertificates.Serving serving = CA.serving("capo", algorithm, pkcs8, IN_TWO_DAYS);
        assertThat(serving.keyPem()).contains(pkcs8 ? "BEGIN PRIVATE KEY"
                : "BEGIN " + algorithm + " PRIVATE KEY");
        CA.write(dir, serving);

        ServingCertificate certificate = load();

        assertThat(certificate.leaf().getSubjectX500Principal().getName()).isEqualTo("CN=capo");
        assertThat(certificate.expiredAt(Instant.now())).isFalse();
    }

    @ParameterizedTest(name = "cert {0}, key {1}")
    @CsvSource({"RSA, RSA", "EC, EC", "RSA, EC", "EC, RSA"})
    void aKeyOfAnotherCertificateIsAMismatch(String certAlgorithm, String keyAlgorithm) throws Exception {
        TestCertificates.Serving cert = CA.serving("capo", certAlgorithm, false, IN_TWO_DAYS);
        TestCertificates.Serving other = CA.serving("other", keyAlgorithm, true, IN_TWO_DAYS);
        CA.write(dir, new TestCertificates.Serving(cert.certPem(), other.keyPem()));

        assertThatThrownBy(this::load).isInstanceOfSatisfying(ServingCertificate.Problem.class, p -> {
            assertThat(p.reason()).isEqualTo(ServingCertificate.Problem.MISMATCH);
            assertThat(p.getMessage()).contains(dir.resolve("tls.key").toString(), "does not belong to the certificate in",
                    dir.resolve("tls.crt").toString(), "CN=capo");
        });
    }

    @Test
    void aCertificateCutOffWhileBeingWrittenIsUnreadable() throws Exception {
        TestCertificates.Serving serving = CA.serving("capo", "RSA", false, IN_TWO_DAYS);
        String chain = serving.certPem() + CA.caPem();
        for (int cut : new int[]{10, serving.certPem().length() / 2, serving.certPem().length() + 40,
                chain.length() - 30}) {
            CA.write(dir, new TestCertificates.Serving(chain.substring(0, cut), serving.keyPem()));
            assertThatThrownBy(this::load).as("cut at %d", cut)
                    .isInstanceOfSatisfying(ServingCertificate.Problem.class, p -> {
                        assertThat(p.reason()).isEqualTo(ServingCertificate.Problem.UNREADABLE);
                        assertThat(p.getMessage()).contains(dir.resolve("tls.crt").toString());
                    });
        }
        CA.write(dir, new TestCertificates.Serving(chain, serving.keyPem()));
        assertThat(load().leaf().getSubjectX500Principal().getName()).isEqualTo("CN=capo");
    }

    @Test
    void anEmptyOrCutKeyIsUnreadable() throws Exception {
        TestCertificates.Serving serving = CA.serving("capo", "EC", false, IN_TWO_DAYS);
        for (String key : new String[]{"", serving.keyPem().substring(0, serving.keyPem().length() / 2)}) {
            CA.write(dir, new TestCertificates.Serving(serving.certPem(), key));
            assertThatThrownBy(this::load).isInstanceOfSatisfying(ServingCertificate.Problem.class, p -> {
                assertThat(p.reason()).isEqualTo(ServingCertificate.Problem.UNREADABLE);
                assertThat(p.getMessage()).contains(dir.resolve("tls.key").toString());
            });
        }
    }

    @Test
    void aMissingFileIsUnreadable() throws Exception {
        CA.write(dir, CA.serving("capo", "RSA", false, IN_TWO_DAYS));
        Files.delete(dir.resolve("tls.crt"));
        assertThatThrownBy(this::load).isInstanceOfSatisfying(ServingCertificate.Problem.class,
                p -> assertThat(p.getMessage()).contains("cannot read " + dir.resolve("tls.crt")));
    }

    @Test
    void anExpiredCertificateLoadsAndSaysSo() throws Exception {
        CA.write(dir, CA.serving("capo", "RSA", false, Instant.now().minus(Duration.ofHours(1))));
        assertThat(load().expiredAt(Instant.now())).isTrue();
    }
}
