package io.capo.testing;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** A test CA and serving certificates for localhost, written as cert-manager writes them. */
public final class TestCertificates {

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    private final KeyPair caKeys;
    private final X509Certificate ca;

    public TestCertificates(String caName) {
        try {
            caKeys = keyPair();
            X500Name name = new X500Name("CN=" + caName);
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(), notBefore(),
                    notAfter(), name, caKeys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            ca = sign(builder, caKeys);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public X509Certificate ca() {
        return ca;
    }

    public String caPem() {
        return pem(ca);
    }

    /** Writes {@code tls.crt}, {@code tls.key} and {@code ca.crt} for localhost / 127.0.0.1 into the directory. */
    public Path writeServing(Path dir, String commonName) {
        return write(dir, serving(commonName, "RSA", false, notAfter().toInstant()));
    }

    /** A serving certificate (PEM) and its private key (PEM). */
    public record Serving(String certPem, String keyPem) {
    }

    /**
     * A serving certificate for localhost / 127.0.0.1 with an {@code RSA} or {@code EC} key, written as PKCS#1 / SEC1
     * ({@code RSA PRIVATE KEY}, {@code EC PRIVATE KEY}) or PKCS#8 ({@code PRIVATE KEY}), valid until {@code notAfter}.
     */
    public Serving serving(String commonName, String keyAlgorithm, boolean pkcs8, Instant notAfter) {
        try {
            KeyPair keys = keyPair(keyAlgorithm);
            Date start = notAfter.isBefore(Instant.now()) ? Date.from(notAfter.minus(Duration.ofDays(1))) : notBefore();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    new X500Name(ca.getSubjectX500Principal().getName()), serial(), start, Date.from(notAfter),
                    new X500Name("CN=" + commonName), keys.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
            X509Certificate cert = sign(builder, caKeys);
            String key = pkcs8 ? pem(new JcaPKCS8Generator(keys.getPrivate(), null))
                    : "EC".equals(keyAlgorithm) ? sec1(keys) : pem(keys.getPrivate());
            return new Serving(pem(cert), key);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client certificate (usage client auth) with its key, as objects and as PEM. */
    public record Client(X509Certificate cert, PrivateKey key, String certPem, String keyPem) {

        /** A TLS context presenting this certificate and trusting {@code serverCa} only. */
        public SSLContext context(X509Certificate serverCa) throws Exception {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("client", key, PASSWORD, new Certificate[]{cert});
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(keys, PASSWORD);
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", serverCa);
            TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trustManagers.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
            return ssl;
        }
    }

    private static final char[] PASSWORD = "test".toCharArray();

    /** A client certificate signed by this CA with subject {@code CN=commonName} and the given DNS SANs. */
    public Client client(String commonName, String... dnsNames) {
        try {
            KeyPair keys = keyPair("RSA");
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    new X500Name(ca.getSubjectX500Principal().getName()), serial(), notBefore(), notAfter(),
                    new X500Name("CN=" + commonName), keys.getPublic());
            if (dnsNames.length > 0) {
                GeneralName[] names = new GeneralName[dnsNames.length];
                for (int i = 0; i < dnsNames.length; i++) {
                    names[i] = new GeneralName(GeneralName.dNSName, dnsNames[i]);
                }
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            }
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
            X509Certificate cert = sign(builder, caKeys);
            return new Client(cert, keys.getPrivate(), pem(cert), pem(new JcaPKCS8Generator(keys.getPrivate(), null)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code tls.crt}, {@code tls.key} and {@code ca.crt} into the directory. */
    public Path write(Path dir, Serving serving) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("tls.crt"), serving.certPem());
            Files.writeString(dir.resolve("tls.key"), serving.keyPem());
            Files.writeString(dir.resolve("ca.crt"), pem(ca));
            return dir;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** As {@link #writeServing}, with an ECDSA P-256 key in PKCS#8, as cert-manager writes it for ECDSA. */
    public Path writeServingEcdsa(Path dir, String commonName) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(256);
            KeyPair keys = generator.generateKeyPair();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    new X500Name(ca.getSubjectX500Principal().getName()), serial(), notBefore(), notAfter(),
                    new X500Name("CN=" + commonName), keys.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
            X509Certificate cert = sign(builder, caKeys);
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("tls.crt"), pem(cert));
            Files.writeString(dir.resolve("tls.key"), pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(
                    keys.getPrivate(), null).generate()));
            Files.writeString(dir.resolve("ca.crt"), pem(ca));
            return dir;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** SEC1 {@code EC PRIVATE KEY} with the named curve, as Go's x509.MarshalECPrivateKey (cert-manager) writes it. */
    private static String sec1(KeyPair keys) throws IOException {
        java.security.interfaces.ECPrivateKey key = (java.security.interfaces.ECPrivateKey) keys.getPrivate();
        org.bouncycastle.asn1.sec.ECPrivateKey structure = new org.bouncycastle.asn1.sec.ECPrivateKey(256, key.getS(),
                org.bouncycastle.asn1.sec.SECObjectIdentifiers.secp256r1);
        return pem(new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY", structure.getEncoded()));
    }

    private static KeyPair keyPair() throws Exception {
        return keyPair("RSA");
    }

    private static KeyPair keyPair(String algorithm) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
        generator.initialize("EC".equals(algorithm) ? 256 : 2048);
        return generator.generateKeyPair();
    }

    private static X509Certificate sign(JcaX509v3CertificateBuilder builder, KeyPair signer) throws Exception {
        ContentSigner contentSigner = new JcaContentSignerBuilder("SHA256withRSA").build(signer.getPrivate());
        X509CertificateHolder holder = builder.build(contentSigner);
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static Date notBefore() {
        return Date.from(Instant.now().minus(Duration.ofHours(1)));
    }

    private static Date notAfter() {
        return Date.from(Instant.now().plus(Duration.ofDays(2)));
    }

    private static String pem(Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }
}
