package io.capo.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Refuses Jolokia's {@code notification} command (register a client, add listeners): Jolokia 2's policy file
 * restricts read, write, exec, list and search, but its notification handler checks no policy at all.
 */
final class JolokiaNotificationFilter {

    static final String JOLOKIA_PATH = "/observe/jolokia";
    private static final String REFUSAL = "{\"status\":403,\"error_type\":\"java.lang.SecurityException\","
            + "\"error\":\"the notification command is not allowed by Capo's Jolokia policy\"}";
    private static final ObjectMapper JSON = new ObjectMapper();

    private JolokiaNotificationFilter() {
    }

    /** Runs before Camel's Jolokia route; reads POST bodies first (Camel's body handler then skips). */
    static void install(Router router) {
        router.route(JOLOKIA_PATH + "/*").order(Integer.MIN_VALUE).handler(BodyHandler.create(false))
                .handler(JolokiaNotificationFilter::check);
    }

    static void check(RoutingContext context) {
        if (isNotification(context)) {
            context.response().setStatusCode(403).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .end(REFUSAL);
        } else {
            context.next();
        }
    }

    private static boolean isNotification(RoutingContext context) {
        String path = context.request().path().substring(JOLOKIA_PATH.length());
        if (startsWithNotification(path) || startsWithNotification(context.request().getParam("p"))) {
            return true;
        }
        if (context.request().method() == HttpMethod.POST && context.body().length() > 0) {
            try {
                JsonNode body = JSON.readTree(context.body().buffer().getBytes());
                if (body.isArray()) {
                    for (JsonNode request : body) {
                        if (isNotificationType(request)) {
                            return true;
                        }
                    }
                    return false;
                }
                return isNotificationType(body);
            } catch (IOException e) {
                return false; // not JSON: Jolokia answers it with its own error
            }
        }
        return false;
    }

    private static boolean startsWithNotification(String path) {
        if (path == null) {
            return false;
        }
        String decoded = URLDecoder.decode(path, StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
        while (decoded.startsWith("/")) {
            decoded = decoded.substring(1);
        }
        return decoded.startsWith("notification");
    }

    private static boolean isNotificationType(JsonNode request) {
        return request.path("type").asText("").trim().equalsIgnoreCase("notification");
    }
}
