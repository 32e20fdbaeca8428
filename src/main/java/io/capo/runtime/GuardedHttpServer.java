package io.capo.runtime;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.net.SSLOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TrafficShapingOptions;
import io.vertx.core.streams.ReadStream;
import io.vertx.ext.web.Router;

import java.util.function.Consumer;

/**
 * One of Capo's Vert.x servers, with routes of Capo's own put first into the router Camel hands to
 * {@link #requestHandler}, and for the webhook a {@link ConnectionGuard} that sees every connection and request.
 */
final class GuardedHttpServer implements HttpServer {

    private final HttpServer delegate;
    private final ConnectionGuard guard;
    private final Consumer<Router> firstRoutes;

    /** {@code guard} may be null (no connection guard); {@code firstRoutes} adds routes that run before Camel's. */
    GuardedHttpServer(HttpServer delegate, ConnectionGuard guard, Consumer<Router> firstRoutes) {
        this.delegate = delegate;
        this.guard = guard;
        this.firstRoutes = firstRoutes;
        if (guard != null) {
            delegate.connectionHandler(guard::connected);
            delegate.exceptionHandler(guard::failed);
        }
    }

    @Override
    public HttpServer requestHandler(Handler<HttpServerRequest> handler) {
        if (!(handler instanceof Router router)) {
            throw new IllegalArgumentException("the webhook server expects a Vert.x Router, got " + handler);
        }
        if (guard != null) {
            router.route().order(Integer.MIN_VALUE).handler(guard::request);
        }
        firstRoutes.accept(router);
        delegate.requestHandler(handler);
        return this;
    }

    @Override
    public HttpServer connectionHandler(Handler<HttpConnection> handler) {
        delegate.connectionHandler(connection -> {
            if (guard != null) {
                guard.connected(connection);
            }
            handler.handle(connection);
        });
        return this;
    }

    @Override
    public ReadStream<HttpServerRequest> requestStream() {
        throw new UnsupportedOperationException("the webhook server is served through its router");
    }

    @Override
    public Handler<HttpServerRequest> requestHandler() {
        return delegate.requestHandler();
    }

    @Override
    public HttpServer invalidRequestHandler(Handler<HttpServerRequest> handler) {
        delegate.invalidRequestHandler(handler);
        return this;
    }

    @Override
    public HttpServer exceptionHandler(Handler<Throwable> handler) {
        delegate.exceptionHandler(failure -> {
            if (guard != null) {
                guard.failed(failure);
            }
            handler.handle(failure);
        });
        return this;
    }

    @Override
    public ReadStream<ServerWebSocket> webSocketStream() {
        return delegate.webSocketStream();
    }

    @Override
    public HttpServer webSocketHandler(Handler<ServerWebSocket> handler) {
        delegate.webSocketHandler(handler);
        return this;
    }

    @Override
    public HttpServer webSocketHandshakeHandler(Handler<ServerWebSocketHandshake> handler) {
        delegate.webSocketHandshakeHandler(handler);
        return this;
    }

    @Override
    public Handler<ServerWebSocket> webSocketHandler() {
        return delegate.webSocketHandler();
    }

    @Override
    public Future<Boolean> updateSSLOptions(SSLOptions options, boolean force) {
        return delegate.updateSSLOptions(options, force);
    }

    @Override
    public void updateTrafficShapingOptions(TrafficShapingOptions options) {
        delegate.updateTrafficShapingOptions(options);
    }

    @Override
    public Future<HttpServer> listen() {
        return delegate.listen().map(this);
    }

    @Override
    public Future<HttpServer> listen(SocketAddress address) {
        return delegate.listen(address).map(this);
    }

    @Override
    public Future<Void> close() {
        return delegate.close();
    }

    @Override
    public void close(Handler<AsyncResult<Void>> completionHandler) {
        delegate.close(completionHandler);
    }

    @Override
    public int actualPort() {
        return delegate.actualPort();
    }

    @Override
    public boolean isMetricsEnabled() {
        return delegate.isMetricsEnabled();
    }
}
