package io.capo.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A webhook that allows everything at once: Vert.x over TLS with the same certificate, answering on the event loop,
 * no Camel, no writes. Registered instead of Capo it shows what any validating webhook costs here (the API server's
 * webhook call, TLS, JSON), so that Capo's own share can be told apart.
 */
final class NoopWebhook implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Vertx vertx = Vertx.vertx();
    private final HttpServer server;

    NoopWebhook(Path certDir) throws Exception {
        server = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setHost("127.0.0.1").setPort(0)
                .setKeyCertOptions(new PemKeyCertOptions().setCertPath(certDir.resolve("tls.crt").toString())
                        .setKeyPath(certDir.resolve("tls.key").toString())));
        server.requestHandler(request -> request.body().onSuccess(body -> {
            String answer;
            try {
                JsonNode review = JSON.readTree(body.getBytes());
                String uid = review.path("request").path("uid").asText();
                String apiVersion = review.path("apiVersion").asText("admission.k8s.io/v1");
                answer = "{\"apiVersion\":\"" + apiVersion + "\",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":\""
                        + uid + "\",\"allowed\":true}}";
            } catch (Exception e) {
                request.response().setStatusCode(400).end();
                return;
            }
            request.response().putHeader("Content-Type", "application/json").end(answer);
        }));
        server.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    int port() {
        return server.actualPort();
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
