package io.capo.runtime;

import io.capo.config.FileWatcher;
import io.capo.calico.CalicoReservationStore;
import io.capo.informers.ClusterCache;
import io.capo.reservation.SelectionPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.http.HttpServer;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Starts and stops what lives beside the routes: informers, the reservation writers, file watches for the
 * config, the routes and the certificate, and the warm-up. Informer events are handed to the event routes
 * through {@code direct:} endpoints.
 */
final class CapoRuntime extends ServiceSupport implements CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(CapoRuntime.class);
    static final String POD_EVENTS = "direct:pod-events";
    static final String NODE_DELETED = "direct:node-deleted";

    private final KubernetesClient client;
    private final boolean ownsClient;
    private final CalicoReservationStore store;
    private final ClusterCache cluster;
    private final FileWatcher watcher;
    private final Warmup warmup;
    private final WebhookTls tls;
    private final Path routesDir;
    private final List<AutoCloseable> closeables;
    private final Supplier<SelectionPolicy> selection;
    private final Consumer<String> routesRefused;
    private CamelContext context;
    private ProducerTemplate producer;
    private RoutesReloader routesReloader;

    CapoRuntime(KubernetesClient client, boolean ownsClient, CalicoReservationStore store, ClusterCache cluster,
                FileWatcher watcher, Warmup warmup, WebhookTls tls, Path routesDir, List<AutoCloseable> closeables,
                Supplier<SelectionPolicy> selection, Consumer<String> routesRefused) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.store = store;
        this.cluster = cluster;
        this.watcher = watcher;
        this.warmup = warmup;
        this.tls = tls;
        this.routesDir = routesDir;
        this.closeables = closeables;
        this.selection = selection;
        this.routesRefused = routesRefused;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.context = camelContext;
    }

    @Override
    public CamelContext getCamelContext() {
        return context;
    }

    @Override
    protected void doStart() throws Exception {
        producer = context.createProducerTemplate();
        long maxBody = context.getPropertiesComponent().resolveProperty("camel.server.maxBodySize")
                .map(Long::parseLong).orElse(-1L);
        if (!WebhookHttpErrors.install(context, maxBody)) {
            LOG.warn("webhook router not found: an oversized request will be logged by Vert.x as unhandled");
        }
        cluster.onPodEvent(event -> producer.sendBody(POD_EVENTS, event));
        cluster.onNodeDeleted(node -> producer.sendBody(NODE_DELETED, node));
        store.start();
        cluster.start();
        routesReloader = new RoutesReloader(context, routesDir, routesRefused);
        context.getRegistry().bind("routesReloader", routesReloader);
        if (routesDir != null) {
            routesReloader.init();
            watcher.watch(routesDir, changed -> routesReloader.reload());
        }
        watcher.watch(tls.certFile().getParent(), changed -> webhookServer().ifPresent(tls::reload));
        tls.clientCaFile().ifPresent(ca -> watcher.watch(ca.getParent(),
                changed -> webhookServer().ifPresent(tls::reloadClientCa)));
        watcher.start();
        Thread warm = new Thread(() -> warmup.run(selection.get()), "capo-warmup");
        warm.setDaemon(true);
        warm.start();
    }

    /** Re-creates the routes so that changed placeholders take effect (only with a routes directory). */
    void refreshRoutes() {
        routesReloader.refresh();
    }

    /** The HTTPS webhook server: the one that uses the global SSL parameters (management is plain HTTP). */
    Optional<HttpServer> webhookServer() {
        return context.hasServices(VertxPlatformHttpServer.class).stream()
                .filter(s -> s.getServer() != null && s.isUseGlobalSslContextParameters())
                .map(VertxPlatformHttpServer::getServer).findFirst();
    }

    /** Camel only logs a warning when a port is taken; Capo must not run without its webhook. */
    static void verifyServersBound(CamelContext context) {
        for (VertxPlatformHttpServer server : context.hasServices(VertxPlatformHttpServer.class)) {
            if (server.getServer() == null || server.getServer().actualPort() <= 0) {
                throw new IllegalStateException("HTTP server on port " + server.getConfigurationPort()
                        + " did not start (port taken?)");
            }
        }
    }

    /** Capo must not run without one of its required routes (e.g. a routes directory mounted without a file). */
    static void verifyRequiredRoutes(CamelContext context) {
        List<String> missing = RouteProbes.missingRequired(context);
        if (!missing.isEmpty()) {
            throw new IllegalStateException("required route(s) " + String.join(", ", missing) + " not defined by "
                    + "the route files (Capo needs " + String.join(", ", RouteChangeCheck.REQUIRED) + ")");
        }
    }

    @Override
    protected void doStop() throws Exception {
        watcher.close();
        for (AutoCloseable closeable : closeables) {
            try {
                closeable.close();
            } catch (Exception e) {
                LOG.debug("closing {} failed: {}", closeable, e.toString());
            }
        }
        cluster.close();
        store.close();
        if (producer != null) {
            producer.close();
        }
        if (ownsClient) {
            client.close();
        }
    }
}
