package io.capo.runtime;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.impl.KeyStoreHelper;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.Enumeration;

/**
 * A serving certificate chain and its private key as cert-manager writes them ({@code tls.crt}, {@code tls.key};
 * RSA or ECDSA key, PKCS#1/SEC1 or PKCS#8 PEM), checked before use: both files parse completely, the key belongs
 * to the first (leaf) certificate, and a signature made with the key verifies with the certificate's public key.
 * A pair that fails is rejected with a {@link Problem} naming the file and the reason.
 */
record ServingCertificate(X509Certificate leaf, PemKeyCertOptions pem) {

    /** Why a pair cannot be used; {@code reason} is the metric tag. */
    static final class Problem extends Exception {
        static final String UNREADABLE = "unreadable";
        static final String MISMATCH = "key-mismatch";
        static final String EXPIRED = "expired";

        private final String reason;

        Problem(String reason, String message) {
            super(message);
            this.reason = reason;
        }

        String reason() {
            return reason;
        }
    }

    private static final byte[] PROBE = "capo serving certificate check".getBytes(StandardCharsets.UTF_8);

    static ServingCertificate load(Path certFile, Path keyFile) throws Problem {
        byte[] cert = read(certFile);
        byte[] key = read(keyFile);
        X509Certificate leaf = leaf(certFile, cert);
        PemKeyCertOptions pem = new PemKeyCertOptions().setCertValue(Buffer.buffer(cert)).setKeyValue(Buffer.buffer(key));
        PrivateKey privateKey = privateKey(pem, leaf, certFile, keyFile, key);
        verifyPair(leaf, privateKey, certFile, keyFile);
        return new ServingCertificate(leaf, pem);
    }

    boolean expiredAt(Instant now) {
        return leaf.getNotAfter().toInstant().isBefore(now);
    }

    String describe() {
        return leaf.getSubjectX500Principal().getName() + ", valid " + leaf.getNotBefore().toInstant() + " to "
                + leaf.getNotAfter().toInstant();
    }

    private static byte[] read(Path file) throws Problem {
        try {
            byte[] bytes = Files.readAllBytes(file);
            if (bytes.length == 0) {
                throw new Problem(Problem.UNREADABLE, file + " is empty");
            }
            return bytes;
        } catch (IOException e) {
            throw new Problem(Problem.UNREADABLE, "cannot read " + file + ": " + e);
        }
    }

    /** Every PEM block of the file must be complete: a file caught half written fails here. */
    private static X509Certificate leaf(Path certFile, byte[] pem) throws Problem {
        String text = new String(pem, StandardCharsets.US_ASCII);
        int begins = count(text, "-----BEGIN CERTIFICATE-----");
        if (begins == 0) {
            throw new Problem(Problem.UNREADABLE, certFile + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        if (count(text, "-----END CERTIFICATE-----") != begins) {
            throw new Problem(Problem.UNREADABLE, certFile + " ends inside a certificate (truncated or still being written)");
        }
        Collection<? extends Certificate> certificates;
        try {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem));
        } catch (GeneralSecurityException e) {
            throw new Problem(Problem.UNREADABLE, certFile + " is not a valid PEM certificate chain: " + e.getMessage());
        }
        if (certificates.size() != begins) {
            throw new Problem(Problem.UNREADABLE, certFile + " holds " + begins + " certificate blocks of which "
                    + certificates.size() + " parse");
        }
        return (X509Certificate) certificates.iterator().next();
    }

    private static PrivateKey privateKey(PemKeyCertOptions pem, X509Certificate leaf, Path certFile, Path keyFile,
                                         byte[] keyPem) throws Problem {
        try {
            KeyStore store = pem.loadKeyStore(null);
            Enumeration<String> aliases = store.aliases();
            String alias = aliases.nextElement();
            return (PrivateKey) store.getKey(alias, KeyStoreHelper.DUMMY_PASSWORD.toCharArray());
        } catch (Exception e) {
            // a key store refuses an RSA key with an EC certificate (and the other way round) before we can compare
            String keyAlgorithm = declaredAlgorithm(new String(keyPem, StandardCharsets.US_ASCII));
            String certAlgorithm = leaf.getPublicKey().getAlgorithm();
            if (keyAlgorithm != null && !keyAlgorithm.equals(certAlgorithm)) {
                throw new Problem(Problem.MISMATCH, keyFile + " does not belong to the certificate in " + certFile
                        + " (" + leaf.getSubjectX500Principal().getName() + "): the key is " + keyAlgorithm
                        + ", the certificate's key is " + certAlgorithm);
            }
            throw new Problem(Problem.UNREADABLE, keyFile + " is not a usable PEM private key (RSA or EC, PKCS#1 or "
                    + "PKCS#8): " + e.getMessage());
        }
    }

    /** The algorithm of a PEM private key that parses, else null. */
    private static String declaredAlgorithm(String pem) {
        if (pem.contains("-----BEGIN RSA PRIVATE KEY-----")) {
            return "RSA";
        }
        if (pem.contains("-----BEGIN EC PRIVATE KEY-----")) {
            return "EC";
        }
        int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            return null;
        }
        try {
            byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + 27, end));
            for (String algorithm : new String[]{"RSA", "EC"}) {
                try {
                    KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
                    return algorithm;
                } catch (GeneralSecurityException notThisOne) {
                    // try the next
                }
            }
        } catch (IllegalArgumentException ignored) {
            return null;
        }
        return null;
    }

    private static void verifyPair(X509Certificate leaf, PrivateKey key, Path certFile, Path keyFile) throws Problem {
        PublicKey publicKey = leaf.getPublicKey();
        String mismatch = keyFile + " does not belong to the certificate in " + certFile + " ("
                + leaf.getSubjectX500Principal().getName() + ")";
        if (!publicKey.getAlgorithm().equals(key.getAlgorithm())) {
            throw new Problem(Problem.MISMATCH, mismatch + ": the key is " + key.getAlgorithm()
                    + ", the certificate's key is " + publicKey.getAlgorithm());
        }
        if (publicKey instanceof RSAPublicKey rsa && key instanceof RSAPrivateKey rsaKey
                && !rsa.getModulus().equals(rsaKey.getModulus())) {
            throw new Problem(Problem.MISMATCH, mismatch + ": the RSA moduli differ");
        }
        String algorithm = key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(PROBE);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(PROBE);
            if (!verifier.verify(signature)) {
                throw new Problem(Problem.MISMATCH, mismatch + ": a signature made with the key does not verify "
                        + "with the certificate's public key");
            }
        } catch (GeneralSecurityException e) {
            throw new Problem(Problem.MISMATCH, mismatch + ": test signature failed: " + e.getMessage());
        }
    }

    private static int count(String text, String marker) {
        int count = 0;
        for (int at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + marker.length())) {
            count++;
        }
        return count;
    }
}
