package io.capo.runtime;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;

/**
 * Deadlines and a connection limit for the webhook server, which Vert.x does not have: its idle timeout restarts
 * on every byte, so a client trickling one byte every few seconds would hold a connection for ever.
 *
 * <p>Each connection has one deadline at a time. From its start, and again from the start of each request, the
 * request must be received and answered within {@code requestTimeout}; after an answer the next request must start
 * within {@code idleTimeout}. A connection past its deadline is closed. Beyond {@code maxConnections} open
 * connections a new one is closed at once. After a 413 the connection is closed instead of reading the rest of
 * the oversized body.
 */
final class ConnectionGuard {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionGuard.class);
    static final String REQUEST_TIMEOUT = "request-timeout";
    static final String IDLE_TIMEOUT = "idle-timeout";
    static final String LIMIT = "connection-limit";
    static final String TOO_LARGE = "body-too-large";
    static final String HANDSHAKE_FAILED = "tls-handshake-failed";
    static final Duration CLOSE_AFTER_413 = Duration.ofSeconds(1);

    private final Vertx vertx;
    private final HttpLimits limits;
    private final Consumer<String> closed;
    private final AtomicInteger open = new AtomicInteger();
    private final Map<HttpConnection, Deadline> deadlines = new ConcurrentHashMap<>();

    ConnectionGuard(Vertx vertx, HttpLimits limits, Consumer<String> closed) {
        this.vertx = vertx;
        this.limits = limits;
        this.closed = closed;
    }

    int open() {
        return open.get();
    }

    void connected(HttpConnection connection) {
        if (open.incrementAndGet() > limits.maxConnections()) {
            open.decrementAndGet();
            close(connection, LIMIT);
            return;
        }
        Deadline deadline = new Deadline(connection);
        deadlines.put(connection, deadline);
        connection.closeHandler(v -> {
            open.decrementAndGet();
            deadline.cancel();
            deadlines.remove(connection);
        });
        deadline.arm(limits.requestTimeout(), REQUEST_TIMEOUT);
    }

    /** First handler of the server's router: every request passes here once its head has arrived. */
    void request(RoutingContext context) {
        HttpConnection connection = context.request().connection();
        Deadline deadline = deadlines.get(connection);
        if (deadline != null) {
            deadline.arm(limits.requestTimeout(), REQUEST_TIMEOUT);
        }
        context.addHeadersEndHandler(v -> {
            if (context.response().getStatusCode() == 413) {
                context.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
            }
        });
        context.addEndHandler(done -> {
            if (context.response().getStatusCode() == 413) {
                // on a kept-alive connection the rest of the body would still be read and thrown away: stop
                // reading at once, and close a moment later, so that the client can read the 413 before the reset
                // that closing a socket with unread data sends
                if (deadline != null) {
                    deadline.cancel();
                }
                closed.accept(TOO_LARGE);
                context.request().pause();
                // the exchange is over: the close that follows is no failure of the request
                context.request().exceptionHandler(closedLater -> { });
                vertx.setTimer(CLOSE_AFTER_413.toMillis(), id -> connection.close());
            } else if (deadline != null) {
                deadline.arm(limits.idleTimeout(), IDLE_TIMEOUT);
            }
        });
        context.next();
    }

    /**
     * Errors of connections before they become HTTP connections: a failed TLS handshake (no or an untrusted client
     * certificate, no common protocol or suite, plain HTTP) is the caller's problem, counted and logged at DEBUG.
     */
    void failed(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SSLException) {
                LOG.debug("webhook TLS handshake failed: {}", cause.toString());
                closed.accept(HANDSHAKE_FAILED);
                return;
            }
        }
        LOG.debug("webhook connection failed before its first request: {}", failure.toString());
    }

    private void close(HttpConnection connection, String reason) {
        LOG.debug("closing webhook connection from {}: {}", connection.remoteAddress(), reason);
        closed.accept(reason);
        connection.close();
    }

    /** The one deadline of a connection; armed from the event loop and from the thread that ends a response. */
    private final class Deadline {
        private final HttpConnection connection;
        private long timer = -1;
        private boolean cancelled;

        Deadline(HttpConnection connection) {
            this.connection = connection;
        }

        synchronized void arm(Duration after, String reason) {
            if (cancelled) {
                return;
            }
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
            timer = vertx.setTimer(after.toMillis(), id -> expired(id, reason));
        }

        synchronized void cancel() {
            cancelled = true;
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
        }

        private void expired(long id, String reason) {
            synchronized (this) {
                if (cancelled || id != timer) {
                    return;
                }
                cancelled = true;
            }
            close(connection, reason);
        }
    }
}
