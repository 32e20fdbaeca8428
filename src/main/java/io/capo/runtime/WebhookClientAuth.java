package io.capo.runtime;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SSLOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Optional client-certificate authentication of the webhook port ({@code capo.tls.clientCaFile},
 * {@code capo.tls.clientAllowedNames}): with a CA file, a TLS handshake without a client certificate signed by one
 * of its CAs fails, and with allowed names a certificate whose CN and DNS SANs name none of them is answered 403.
 * The CA file is reloaded when it changes; a file that cannot be used is refused and the CAs in use stay.
 */
final class WebhookClientAuth {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookClientAuth.class);
    static final String CA_FILE = "capo.tls.clientCaFile";
    static final String ALLOWED_NAMES = "capo.tls.clientAllowedNames";
    /** Reason in {@code capo_webhook_certificate_reload_refused_total} of a CA file that cannot be used. */
    static final String CA_REFUSED = "client-ca-unreadable";
    /** Reason in {@code capo_webhook_connections_closed_total} of a certificate naming no allowed name. */
    static final String NOT_ALLOWED = "client-not-allowed";

    private final Path caFile;
    private final Set<String> allowedNames;
    private final Consumer<String> refused;
    private final Consumer<String> closed;
    private volatile PemTrustOptions trust;

    WebhookClientAuth(Path caFile, List<String> allowedNames, Consumer<String> refused, Consumer<String> closed) {
        this.caFile = caFile;
        this.allowedNames = allowedNames.stream().map(n -> n.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
        this.refused = refused;
        this.closed = closed;
        if (caFile == null && !allowedNames.isEmpty()) {
            throw new IllegalArgumentException(ALLOWED_NAMES + ": needs " + CA_FILE + " (names are checked in client "
                    + "certificates, which are only asked for with a CA file)");
        }
        if (caFile != null) {
            try {
                trust = load(caFile);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("cannot use client CA file: " + e.getMessage());
            }
        }
    }

    /** Reads the settings; without {@code capo.tls.clientCaFile} client certificates are not asked for. */
    static WebhookClientAuth from(Properties properties, Consumer<String> refused, Consumer<String> closed) {
        String file = properties.getProperty(CA_FILE, "").trim();
        List<String> names = Arrays.stream(properties.getProperty(ALLOWED_NAMES, "").split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).toList();
        return new WebhookClientAuth(file.isEmpty() ? null : Path.of(file), names, refused, closed);
    }

    boolean enabled() {
        return caFile != null;
    }

    Path caFile() {
        return caFile;
    }

    String describe() {
        if (!enabled()) {
            return "off";
        }
        return "CA file " + caFile + ", allowed names " + (allowedNames.isEmpty() ? "any" : String.join(",",
                allowedNames.stream().sorted().toList()));
    }

    /** Options of the webhook server about to be created: client certificates required, from the CAs of the file. */
    HttpServerOptions apply(HttpServerOptions options) {
        if (enabled() && options.isSsl()) {
            options.setClientAuth(ClientAuth.REQUIRED).setTrustOptions(trust);
        }
        return options;
    }

    /** The same CAs for SSL options swapped in at run time (an update replaces the trust options too). */
    SSLOptions apply(SSLOptions options) {
        if (enabled()) {
            options.setTrustOptions(trust);
        }
        return options;
    }

    /**
     * Reads the CA file again; true when its CAs are now in use. A file that cannot be used (missing, empty, half
     * written, no certificate) is refused with one warning and counted; the CAs in use stay.
     */
    boolean reload() {
        try {
            trust = load(caFile);
            return true;
        } catch (IllegalArgumentException e) {
            refused.accept(CA_REFUSED);
            LOG.warn("client CA file change refused, still trusting the previous CAs: {}; the next change of {} is "
                    + "tried again", e.getMessage(), caFile);
            return false;
        }
    }

    /** With allowed names: a route before Camel's that answers 403 to a certificate naming none of them. */
    void install(Router router) {
        if (enabled() && !allowedNames.isEmpty()) {
            router.route().order(Integer.MIN_VALUE + 1).handler(this::check);
        }
    }

    void check(RoutingContext context) {
        List<String> names;
        try {
            List<Certificate> peer = context.request().connection().peerCertificates();
            names = peer.isEmpty() ? List.of() : names((X509Certificate) peer.get(0));
        } catch (SSLPeerUnverifiedException e) {
            names = List.of();
        }
        if (names.stream().anyMatch(n -> allowedNames.contains(n.toLowerCase(Locale.ROOT)))) {
            context.next();
            return;
        }
        String message = "client certificate names " + (names.isEmpty() ? "nothing" : String.join(", ", names))
                + ", none of them in " + ALLOWED_NAMES;
        LOG.debug("refused webhook request from {}: {}", context.request().remoteAddress(), message);
        closed.accept(NOT_ALLOWED);
        context.response().setStatusCode(403).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
                .putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE).end(message)
                .onComplete(done -> context.request().connection().close());
    }

    /** The subject's CN and the DNS names of the certificate. */
    static List<String> names(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    names.add(rdn.getValue().toString());
                }
            }
        } catch (InvalidNameException ignored) {
            // a subject the JDK printed cannot be malformed; SANs still count
        }
        try {
            Collection<List<?>> alternatives = certificate.getSubjectAlternativeNames();
            if (alternatives != null) {
                for (List<?> alternative : alternatives) {
                    if (Integer.valueOf(2).equals(alternative.get(0))) {
                        names.add(alternative.get(1).toString());
                    }
                }
            }
        } catch (CertificateParsingException ignored) {
            // no usable SANs: the CN alone decides
        }
        return names;
    }

    /** Every PEM block must be complete and parse: a file caught half written is refused, not half used. */
    static PemTrustOptions load(Path file) {
        byte[] pem;
        try {
            pem = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e);
        }
        String text = new String(pem, StandardCharsets.US_ASCII);
        int begins = count(text, "-----BEGIN CERTIFICATE-----");
        if (begins == 0) {
            throw new IllegalArgumentException(file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        if (count(text, "-----END CERTIFICATE-----") != begins) {
            throw new IllegalArgumentException(file + " ends inside a certificate (truncated or still being written)");
        }
        Collection<? extends Certificate> certificates;
        try {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + " is not a valid PEM certificate bundle: " + e.getMessage());
        }
        if (certificates.size() != begins) {
            throw new IllegalArgumentException(file + " holds " + begins + " certificate blocks of which "
                    + certificates.size() + " parse");
        }
        return new PemTrustOptions().addCertValue(Buffer.buffer(pem));
    }

    private static int count(String text, String marker) {
        int count = 0;
        for (int at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + marker.length())) {
            count++;
        }
        return count;
    }
}
