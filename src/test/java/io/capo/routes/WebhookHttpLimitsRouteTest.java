package io.capo.routes;

import io.capo.testing.CapoInstance;
import io.capo.testing.LogCapture;
import io.capo.testing.MockCluster;
import io.capo.testing.TestCertificates;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The webhook server's deadlines, connection limit and 413 handling, on raw TLS sockets against the real HTTPS
 * server (short limits so that the test runs in seconds).
 */
class WebhookHttpLimitsRouteTest {

    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(3);
    static final int MAX_CONNECTIONS = 5;
    /** Scheduling slack on a loaded 2-core machine; the deadlines themselves are what is asserted. */
    static final Duration SLACK = Duration.ofSeconds(3);

    static MockCluster cluster;
    static TestCertificates certificates;
    static CapoInstance capo;
    static SSLContext tls;
    final List<SSLSocket> sockets = new ArrayList<>();

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        cluster = new MockCluster();
        certificates = new TestCertificates("limits-ca");
        capo = CapoInstance.builder(cluster.client(), certificates.writeServing(dir.resolve("certs"), "capo"))
                .property("capo.http.requestTimeout", "2s")
                .property("capo.http.idleTimeout", "3s")
                .property("capo.http.maxConnections", Integer.toString(MAX_CONNECTIONS))
                .start();
        tls = CapoInstance.trusting(certificates.ca());
    }

    @AfterAll
    static void stop() throws Exception {
        capo.close();
        cluster.close();
    }

    @AfterEach
    void closeSockets() throws IOException {
        for (SSLSocket socket : sockets) {
            socket.close();
        }
        // every test starts with no connection of the previous one still counted
        await().atMost(Duration.ofSeconds(10)).until(() -> metric("capo_webhook_connections ") == 0.0);
    }

    SSLSocket connect() throws IOException {
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("localhost", capo.webhookPort());
        socket.setSoTimeout((int) Duration.ofSeconds(30).toMillis());
        socket.startHandshake();
        sockets.add(socket);
        return socket;
    }

    static double metric(String prefix) throws Exception {
        return capo.get("/observe/metrics").body().lines().filter(l -> l.startsWith(prefix))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** Blocks until the server closes the connection (end of stream or reset); returns what was read. */
    static String readUntilClosed(InputStream in) {
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                read.write(buffer, 0, n);
            }
        } catch (IOException closed) {
            // a reset counts as closed
        }
        return read.toString(StandardCharsets.ISO_8859_1);
    }

    static String request(String body) {
        return "POST /pod-ip-reservation HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body;
    }

    /** Writes one byte every 300 ms until the connection breaks. */
    static CompletableFuture<Void> trickle(OutputStream out, String bytes) {
        return CompletableFuture.runAsync(() -> {
            try {
                for (int i = 0; ; i = (i + 1) % bytes.length()) {
                    out.write(bytes.charAt(i));
                    out.flush();
                    TimeUnit.MILLISECONDS.sleep(300);
                }
            } catch (IOException | InterruptedException broken) {
                // the server closed the connection
            }
        });
    }

    @Test
    void aClientTricklingTheRequestHeadIsCutOffAtTheRequestTimeout() throws Exception {
        double before = metric("capo_webhook_connections_closed_total{reason=\"request-timeout\"");
        SSLSocket socket = connect();
        long start = System.nanoTime();
        OutputStream out = socket.getOutputStream();
        out.write("POST /pod-ip-reservation HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
        trickle(out, "abcdefgh");

        String answer = readUntilClosed(socket.getInputStream());

        Duration held = Duration.ofNanos(System.nanoTime() - start);
        assertThat(answer).isEmpty();
        assertThat(held).isBetween(REQUEST_TIMEOUT.minusMillis(300), REQUEST_TIMEOUT.plus(SLACK));
        assertThat(metric("capo_webhook_connections_closed_total{reason=\"request-timeout\"")).isEqualTo(before + 1);
    }

    @Test
    void aClientTricklingTheBodyIsCutOffAtTheRequestTimeout() throws Exception {
        try (LogCapture log = new LogCapture()) {
            SSLSocket socket = connect();
            long start = System.nanoTime();
            OutputStream out = socket.getOutputStream();
            out.write(("POST /pod-ip-reservation HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100000\r\n\r\n{\"a\":\"").getBytes(StandardCharsets.US_ASCII));
            trickle(out, "xyz");

            String answer = readUntilClosed(socket.getInputStream());

            Duration held = Duration.ofNanos(System.nanoTime() - start);
            assertThat(answer).doesNotContain("HTTP/1.1 200");
            assertThat(held).isBetween(REQUEST_TIMEOUT.minusMillis(300), REQUEST_TIMEOUT.plus(SLACK));
            // closing the connection mid-body is the caller's problem, not an error of Capo's router
            TimeUnit.MILLISECONDS.sleep(500);
            assertThat(log.atLeast(Level.WARN)).noneMatch(line -> line.contains("Unhandled exception in router")
                    || line.contains("HttpClosedException"));
        }
    }

    @Test
    void aKeptAliveConnectionServesRequestsAndIsClosedAfterTheIdleTimeout() throws Exception {
        SSLSocket socket = connect();
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        for (int i = 0; i < 2; i++) {
            // well within the idle timeout: keep-alive is what the API server relies on under bursts
            TimeUnit.MILLISECONDS.sleep(1500);
            out.write(request("{}").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(readResponseHead(in)).startsWith("HTTP/1.1 400");
        }
        long answered = System.nanoTime();

        String rest = readUntilClosed(in);

        Duration idle = Duration.ofNanos(System.nanoTime() - answered);
        assertThat(rest).isEmpty();
        assertThat(idle).isBetween(IDLE_TIMEOUT.minusMillis(300), IDLE_TIMEOUT.plus(SLACK));
    }

    @Test
    void aConnectionThatNeverSendsARequestIsClosedAtTheRequestTimeout() throws Exception {
        SSLSocket socket = connect();
        long start = System.nanoTime();

        readUntilClosed(socket.getInputStream());

        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .isBetween(REQUEST_TIMEOUT.minusMillis(300), REQUEST_TIMEOUT.plus(SLACK));
    }

    @Test
    void connectionsBeyondTheLimitAreClosedAtOnceAndServedAgainWhenOneFrees() throws Exception {
        double before = metric("capo_webhook_connections_closed_total{reason=\"connection-limit\"");
        List<SSLSocket> held = new ArrayList<>();
        for (int i = 0; i < MAX_CONNECTIONS; i++) {
            held.add(connect());
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> metric("capo_webhook_connections ") == MAX_CONNECTIONS);

        SSLSocket refused = (SSLSocket) tls.getSocketFactory().createSocket("localhost", capo.webhookPort());
        sockets.add(refused);
        long start = System.nanoTime();
        String answer;
        try {
            refused.startHandshake();
            refused.getOutputStream().write(request("{}").getBytes(StandardCharsets.US_ASCII));
            answer = readUntilClosed(refused.getInputStream());
        } catch (IOException closedDuringHandshake) {
            answer = "";
        }
        assertThat(answer).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(REQUEST_TIMEOUT);
        assertThat(metric("capo_webhook_connections_closed_total{reason=\"connection-limit\"")).isEqualTo(before + 1);

        held.get(0).close();
        await().atMost(Duration.ofSeconds(5)).until(() -> metric("capo_webhook_connections ") == MAX_CONNECTIONS - 1);
        SSLSocket next = connect();
        next.getOutputStream().write(request("{}").getBytes(StandardCharsets.US_ASCII));
        assertThat(readResponseHead(next.getInputStream())).startsWith("HTTP/1.1 400");
    }

    @Test
    void a413ClosesTheConnectionInsteadOfReadingTheRestOfAHugeBody() throws Exception {
        SSLSocket socket = connect();
        OutputStream out = socket.getOutputStream();
        long hundredMiB = 100L * 1024 * 1024;
        out.write(("POST /pod-ip-reservation HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + hundredMiB + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        AtomicLong written = new AtomicLong();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            byte[] chunk = new byte[64 * 1024];
            java.util.Arrays.fill(chunk, (byte) 'x');
            try {
                while (written.get() < hundredMiB) {
                    out.write(chunk);
                    written.addAndGet(chunk.length);
                }
            } catch (IOException closed) {
                // the server closed the connection
            }
        });

        String answer = readUntilClosed(socket.getInputStream());
        writer.get(30, TimeUnit.SECONDS);

        assertThat(answer).startsWith("HTTP/1.1 413").containsIgnoringCase("connection: close");
        // what the socket buffers took before the server stopped reading, not the 100 MiB
        assertThat(written.get()).isLessThan(hundredMiB / 10);
    }

    @Test
    void oversizedHeadersAreRefused() throws Exception {
        SSLSocket socket = connect();
        socket.getOutputStream().write(("POST /pod-ip-reservation HTTP/1.1\r\nHost: localhost\r\nX-Big: "
                + "x".repeat(9000) + "\r\nContent-Length: 2\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII));

        assertThat(readUntilClosed(socket.getInputStream())).startsWith("HTTP/1.1 431");
    }

    /** Reads one response (head and a Content-Length body) from a kept-alive connection. */
    static String readResponseHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed after " + head);
            }
            head.append((char) b);
        }
        String text = head.toString().toLowerCase(java.util.Locale.ROOT);
        if (text.contains("transfer-encoding: chunked")) {
            StringBuilder body = new StringBuilder();
            while (!body.toString().endsWith("\r\n0\r\n\r\n") && !body.toString().equals("0\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("connection closed inside a chunked body: " + body);
                }
                body.append((char) b);
            }
        } else {
            int length = text.lines().filter(l -> l.startsWith("content-length:"))
                    .map(l -> Integer.parseInt(l.substring(15).trim())).findFirst().orElse(0);
            in.readNBytes(length);
        }
        return head.toString();
    }
}
