package io.capo.runtime;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.impl.VertxWrapper;
import io.vertx.ext.web.Router;

import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The Vert.x instance of one of Capo's HTTP servers. Camel's platform-http creates its server with default
 * {@link HttpServerOptions} and offers no hook for them; this wrapper (Vert.x's documented way to customise
 * {@link Vertx}) puts {@link HttpLimits} into every server it creates and, for the webhook, a {@link ConnectionGuard}.
 */
final class LimitedVertx extends VertxWrapper {

    private final HttpLimits limits;
    private final Consumer<String> guardClosed;
    private final Consumer<Router> firstRoutes;
    private final UnaryOperator<HttpServerOptions> tls;
    private volatile ConnectionGuard guard;

    private LimitedVertx(VertxOptions options, HttpLimits limits, Consumer<String> guardClosed,
                         Consumer<Router> firstRoutes, UnaryOperator<HttpServerOptions> tls) {
        super((VertxInternal) Vertx.vertx(options));
        this.limits = limits;
        this.tls = tls;
        this.guardClosed = guardClosed;
        this.firstRoutes = firstRoutes;
    }

    /** For the webhook server: limits, TLS settings, client certificates and the connection guard. */
    static LimitedVertx webhook(VertxOptions options, HttpLimits limits, WebhookClientAuth clientAuth,
                                Consumer<String> closed) {
        return new LimitedVertx(options, limits, closed, clientAuth::install, clientAuth::apply);
    }

    /**
     * For the management server: header limits and the idle timeout, without deadlines (health probes, Prometheus
     * and Hawtio keep their connections), and Jolokia's notification command refused.
     */
    static LimitedVertx management(VertxOptions options, HttpLimits limits) {
        return new LimitedVertx(options, limits, null, JolokiaNotificationFilter::install, o -> o);
    }

    /** Open connections of the guarded server (0 before it started, or without a guard). */
    int openConnections() {
        ConnectionGuard current = guard;
        return current == null ? 0 : current.open();
    }

    @Override
    public HttpServer createHttpServer(HttpServerOptions options) {
        HttpServer server = delegate.createHttpServer(tls.apply(limits.apply(new HttpServerOptions(options))));
        ConnectionGuard created = guardClosed == null ? null : new ConnectionGuard(this, limits, guardClosed);
        guard = created;
        return new GuardedHttpServer(server, created, firstRoutes);
    }

    @Override
    public HttpServer createHttpServer() {
        return createHttpServer(new HttpServerOptions());
    }
}
