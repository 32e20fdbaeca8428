package io.capo.runtime;

import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the webhook server's own refusals that happen before a route runs. Vert.x Web's body handler fails a
 * request whose body is over {@code camel.server.maxBodySize} with 413, which without a handler is logged as
 * {@code ERROR Unhandled exception in router} with no detail, once per request. A too large body is the caller's
 * fault: it gets a one-line answer and a DEBUG line. So is a connection closed while a request still arrives
 * (Capo's deadline, the close after a 413, or the caller gone): Vert.x fails the request with
 * {@link HttpClosedException}, which is logged at DEBUG.
 */
final class WebhookHttpErrors {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookHttpErrors.class);

    private WebhookHttpErrors() {
    }

    /** Installs the handler on the webhook (main) server's router; false when that router is not there yet. */
    static boolean install(CamelContext context, long maxBodyBytes) {
        for (VertxPlatformHttpRouter router : context.getRegistry().findByType(VertxPlatformHttpRouter.class)) {
            if (router.isMainServer()) {
                router.route().failureHandler(ctx -> handle(ctx, maxBodyBytes));
                return true;
            }
        }
        return false;
    }

    static void handle(RoutingContext ctx, long maxBodyBytes) {
        if (closedMidRequest(ctx.failure())) {
            // Capo closed it (deadline, after a 413) or the caller went away: there is no one left to answer
            LOG.debug("webhook connection from {} closed during {} {}: {}", ctx.request().remoteAddress(),
                    ctx.request().method(), ctx.request().path(), ctx.failure().toString());
            return;
        }
        if (ctx.statusCode() != 413 || ctx.response().ended()) {
            ctx.next();
            return;
        }
        String message = "request body exceeds " + maxBodyBytes + " bytes: an AdmissionReview is smaller";
        LOG.debug("refused {} {} from {}: {}", ctx.request().method(), ctx.request().path(),
                ctx.request().remoteAddress(), message);
        ctx.response().setStatusCode(413).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
                .end(message);
    }

    private static boolean closedMidRequest(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof HttpClosedException) {
                return true;
            }
        }
        return false;
    }
}
