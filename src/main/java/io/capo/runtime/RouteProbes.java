package io.capo.runtime;

import io.vertx.core.http.HttpMethod;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;

import java.util.List;
import java.util.Set;

/** What the health checks and the start-up check read from the running context about Capo's routes. */
final class RouteProbes {

    /** The path the ValidatingWebhookConfiguration calls. */
    static final String WEBHOOK_PATH = "/pod-ip-reservation";

    private RouteProbes() {
    }

    /**
     * True when the webhook is served: the {@code admission-webhook} route is started and the HTTPS server's router
     * holds a route for {@code POST /pod-ip-reservation} (so the API server gets an answer, not a 404).
     */
    static boolean webhookServed(CamelContext context) {
        if (!started(context, RouteChangeCheck.WEBHOOK_ROUTE)) {
            return false;
        }
        // one router per HTTP server, named by its port; only the webhook server's holds this path
        return context.getRegistry().findByType(VertxPlatformHttpRouter.class).stream()
                .flatMap(router -> router.getRoutes().stream())
                .anyMatch(route -> WEBHOOK_PATH.equals(route.getPath()) && (route.methods() == null
                        || route.methods().isEmpty() || route.methods().contains(HttpMethod.POST)));
    }

    /** True when the release route exists and is started (on a follower its {@code master:} consumer idles). */
    static boolean releaseRouteStarted(CamelContext context) {
        return started(context, RouteChangeCheck.RELEASE_ROUTE);
    }

    /** The required routes the context does not have. */
    static List<String> missingRequired(CamelContext context) {
        Set<String> ids = new java.util.HashSet<>();
        context.getRoutes().forEach(route -> ids.add(route.getRouteId()));
        return RouteChangeCheck.REQUIRED.stream().filter(id -> !ids.contains(id)).toList();
    }

    private static boolean started(CamelContext context, String routeId) {
        if (context.getRoute(routeId) == null) {
            return false;
        }
        ServiceStatus status = context.getRouteController().getRouteStatus(routeId);
        return status != null && status.isStarted();
    }
}
