package io.capo.runtime;

import io.capo.config.CapoConfigLoader;
import io.capo.config.CapoSettings;
import io.capo.config.ConfigReloader;
import io.capo.config.FailureMode;
import io.capo.config.FileWatcher;
import io.capo.reservation.GoDuration;
import io.capo.config.LoadedConfig;
import io.capo.config.SelectorMode;
import io.capo.reservation.SelectorRequirement;
import io.capo.config.SettingsHolder;
import io.capo.events.PodEventBackstop;
import io.capo.informers.ApiPodLookup;
import io.capo.release.CachePodLiveness;
import io.capo.calico.CalicoApi;
import io.capo.calico.CalicoReservationStore;
import io.capo.informers.ClusterCache;
import io.capo.calico.GoCapoAdoption;
import io.capo.leader.LeaseClusterService;
import io.capo.informers.PodFactsMapper;
import io.capo.metrics.CapoMetrics;
import io.capo.release.ReleaseCycle;
import io.capo.release.ReleasePolicy;
import io.capo.reservation.SelectionPolicy;
import io.capo.webhook.ClusterPodConfirmation;
import io.capo.webhook.PodIpReservationWebhook;
import io.capo.webhook.WebhookPolicy;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.VertxOptions;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.support.LifecycleStrategySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Builds Capo's beans and binds them for the routes: the routes only wire endpoints to these beans.
 * Settings come from the config file (see {@link StartupOptions}); tests pass their own Kubernetes client.
 */
public final class CapoConfiguration implements CamelConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(CapoConfiguration.class);
    /**
     * Most CIDRs in one IPReservation: about 20 bytes each, so 200 KB at most, which Calico IPAM downloads on every
     * assignment (the metadata lives in ReservedIP objects, which it never reads).
     */
    static final int MAX_ENTRIES_PER_OBJECT = 10_000;
    /** How long a CIDR may lack its ReservedIP before the leader repairs it (property, Go duration). */
    static final String REPAIR_GRACE_PROPERTY = "capo.repairGrace";
    static final Duration REPAIR_GRACE = Duration.ofMinutes(1);
    static final String RELEASE_PERIOD_PROPERTY = "capo.ipReleasePeriodMillis";
    /**
     * Vert.x worker threads of the HTTP servers. platform-http runs each webhook call on a worker thread, which then
     * waits for its reservation write (group commit): with Vert.x's default of 20, a burst of deletions is admitted
     * 20 at a time and each write carries at most 20 (docs/benchmarks.md: 500 reviews cost 52 writes with 20
     * workers, 18 with 128, 17-22 with 512). A worker that has run once keeps its stack, about 100 KB of RSS.
     */
    static final int HTTP_WORKER_THREADS = 128;

    private final KubernetesClient suppliedClient;
    private final Clock clock;

    public CapoConfiguration() {
        this(null, Clock.systemUTC());
    }

    public CapoConfiguration(KubernetesClient client, Clock clock) {
        this.suppliedClient = client;
        this.clock = clock;
    }

    @Override
    public void configure(CamelContext context) throws Exception {
        PropertiesComponent properties = context.getPropertiesComponent();
        Properties all = new Properties();
        all.putAll(System.getProperties());
        all.putAll(properties.loadProperties(key -> key.startsWith("capo.")));
        StartupOptions options = StartupOptions.from(all, System.getenv());
        CapoConfigLoader loader = new CapoConfigLoader();
        LoadedConfig loaded = options.configFile().map(f -> loader.load(f, options.overrides()))
                .orElseGet(() -> loader.parse("", options.overrides()));
        loaded.warnings().forEach(w -> LOG.warn("config: {}", w));
        SettingsHolder settings = new SettingsHolder(loaded.settings());
        CapoSettings s = settings.current();
        LOG.info("Capo settings: {}", s.describe());
        setReleasePeriod(properties, s);

        KubernetesClient client = suppliedClient != null ? suppliedClient : KubernetesConnection.connect();
        String namespace = KubernetesConnection.ownNamespace(client);

        HttpLimits limits = HttpLimits.from(all);
        LOG.info("HTTP limits: {}", limits.describe());

        MeterRegistry registry = context.getRegistry().lookupByNameAndType("metricsRegistry", MeterRegistry.class);
        if (registry == null) {
            registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            context.getRegistry().bind("metricsRegistry", registry);
        }
        AtomicReference<CalicoReservationStore> storeRef = new AtomicReference<>();
        String leaseName = s.leaderElection().resourceName();
        CapoMetrics metrics = new CapoMetrics(registry,
                () -> storeRef.get() == null ? 0 : storeRef.get().heldCount(), leaseName);
        metrics.maxCount(s.ipReserveMaxCount());
        WebhookClientAuth clientAuth = WebhookClientAuth.from(all, metrics::certificateRefused,
                metrics::webhookConnectionClosed);
        LOG.info("webhook client certificates: {}", clientAuth.describe());
        giveServersLimitedVertx(context, limits, clientAuth, metrics);

        CalicoReservationStore store = new CalicoReservationStore(client, new CalicoApi(s.calicoApiVersion()),
                namespace, s.reservationObjectName(), s.reservationObjects(), MAX_ENTRIES_PER_OBJECT,
                Optional.ofNullable(all.getProperty(REPAIR_GRACE_PROPERTY)).map(GoDuration::parse).orElse(REPAIR_GRACE),
                metrics);
        storeRef.set(store);
        metrics.objects(store.objectNames());
        AtomicReference<SelectionPolicy> selection = new AtomicReference<>(selectionPolicy(s));
        ClusterCache cluster = new ClusterCache(client, Duration.ofMinutes(10).toMillis(), selection::get);
        metrics.cache(() -> cluster.watchedNamespaces().size(), cluster::cachedPods);
        AtomicReference<WebhookPolicy> webhookPolicy = new AtomicReference<>(webhookPolicy(s, selection.get()));
        AtomicReference<ReleasePolicy> releasePolicy = new AtomicReference<>(releasePolicy(s));

        ApiPodLookup podLookup = new ApiPodLookup(client);
        // builds webhook answers once their writes completed, off the writers' threads
        ExecutorService answers = Executors.newFixedThreadPool(2, runnable -> {
            Thread thread = new Thread(runnable, "capo-webhook-answers");
            thread.setDaemon(true);
            return thread;
        });
        PodIpReservationWebhook webhook = new PodIpReservationWebhook(cluster, store, webhookPolicy::get,
                node -> PodFactsMapper.from(client.getKubernetesSerialization().convertValue(node, Pod.class)),
                new ClusterPodConfirmation(cluster, podLookup), metrics, clock, answers);
        PodEventBackstop backstop = new PodEventBackstop(cluster, store, selection::get,
                () -> settings.current().ipReserveTime(), metrics, clock);
        ReleaseCycle releaseCycle = new ReleaseCycle(store, new CachePodLiveness(cluster), cluster::ready,
                releasePolicy::get, metrics, clock, releaseWriteWait(properties.resolveProperty("camel.main.shutdownTimeout").orElse("45")));
        GoCapoAdoption adoption = new GoCapoAdoption(client, store, namespace, ZoneId.systemDefault(), clock);

        context.getRegistry().bind("podIpReservationWebhook", webhook);
        context.getRegistry().bind("podEventBackstop", backstop);
        context.getRegistry().bind("releaseCycle", releaseCycle);
        context.getRegistry().bind("goCapoAdoption", adoption);
        context.getRegistry().bind("capoMetrics", metrics);
        context.getRegistry().bind("reservationStore", store);
        context.getRegistry().bind("clusterCache", cluster);

        List<AutoCloseable> closeables = new ArrayList<>();
        closeables.add(podLookup);
        closeables.add(answers::shutdown);
        // the election gets a client of its own: its lease calls must not queue behind reservation writes;
        // added before the election service, so that it is closed after the service stopped
        KubernetesClient electionClient = new KubernetesClientBuilder().withConfig(client.getConfiguration()).build();
        context.addService(new ClosingService(electionClient));
        LeaseClusterService leader = leaderElection(electionClient, s, namespace,
                all.getProperty("capo.identity", KubernetesConnection.identity()));
        leader.onLeadershipChange(metrics::leader);
        context.addService(leader);

        WebhookTls tls = new WebhookTls(Path.of(s.certDir()), limits, clientAuth, metrics::certificateRefused, clock);
        context.setSSLContextParameters(tls.sslContextParameters());

        Warmup warmup = new Warmup(client);
        HealthCheckRegistry health = HealthCheckRegistry.get(context);
        health.register(CapoHealthChecks.readiness(cluster::ready, store::synced, warmup::done));
        health.register(CapoHealthChecks.webhookServed(() -> RouteProbes.webhookServed(context)));
        health.register(CapoHealthChecks.releaseRoute(leader::isLeader, () -> context.getStatus().isStarted(),
                () -> RouteProbes.releaseRouteStarted(context)));
        health.register(CapoHealthChecks.electionLoop(leader::lastLoopActivity,
                s.leaderElection().leaseDuration().multipliedBy(4), clock));

        FileWatcher watcher = new FileWatcher(2_000);
        CapoRuntime runtime = new CapoRuntime(client, suppliedClient == null, store, cluster, watcher, warmup, tls,
                options.routesDir().orElse(null), closeables, selection::get, metrics::routesReloadRefused);
        options.configFile().ifPresent(file -> closeables.add(
                startConfigReload(file, options.overrides(), loader, settings, loaded, watcher, metrics)));
        settings.onChange(next -> {
            selection.set(selectionPolicy(next));
            cluster.optInChanged();
            webhookPolicy.set(webhookPolicy(next, selection.get()));
            releasePolicy.set(releasePolicy(next));
            metrics.maxCount(next.ipReserveMaxCount());
            if (setReleasePeriod(properties, next)) {
                runtime.refreshRoutes();
            }
        });
        context.addService(runtime);
    }

    /**
     * Each HTTP server gets a Vert.x instance of its own that applies {@link HttpLimits} (Camel offers no hook for
     * the server options); Capo closes them once the servers have stopped.
     */
    private static void giveServersLimitedVertx(CamelContext context, HttpLimits limits, WebhookClientAuth clientAuth,
                                                CapoMetrics metrics) {
        VertxOptions options = context.getRegistry().findSingleByType(VertxOptions.class);
        if (options == null) {
            options = new VertxOptions().setWorkerPoolSize(HTTP_WORKER_THREADS);
        }
        for (VertxPlatformHttpServer server : context.hasServices(VertxPlatformHttpServer.class)) {
            LimitedVertx vertx;
            if (server.isUseGlobalSslContextParameters()) {
                vertx = LimitedVertx.webhook(options, limits, clientAuth, metrics::webhookConnectionClosed);
                metrics.webhookConnections(vertx::openConnections);
            } else {
                vertx = LimitedVertx.management(options, limits);
            }
            server.setVertx(vertx);
            context.addLifecycleStrategy(new LifecycleStrategySupport() {
                @Override
                public void onContextStopped(CamelContext stopped) {
                    vertx.close();
                }
            });
        }
    }

    private static ConfigReloader startConfigReload(Path file, Map<String, String> overrides, CapoConfigLoader loader,
                                                    SettingsHolder settings, LoadedConfig loaded, FileWatcher watcher,
                                                    CapoMetrics metrics) {
        ConfigReloader reloader = new ConfigReloader(file, overrides, loader, settings, loaded, watcher, metrics);
        reloader.start();
        return reloader;
    }

    /** The release route's timer reads its period from a property; returns true when it changed. */
    private static boolean setReleasePeriod(PropertiesComponent properties, CapoSettings settings) {
        String value = Long.toString(settings.ipReleasePeriod().toMillis());
        boolean changed = !properties.resolveProperty(RELEASE_PERIOD_PROPERTY).map(value::equals).orElse(false);
        properties.addOverrideProperty(RELEASE_PERIOD_PROPERTY, value);
        return changed;
    }

    private static LeaseClusterService leaderElection(KubernetesClient client, CapoSettings s, String namespace,
                                                      String identity) {
        var election = s.leaderElection();
        String leaseNamespace = election.resourceNamespace().isEmpty() ? namespace : election.resourceNamespace();
        // without leader election every replica releases on its own Lease (single-replica installs)
        String leaseName = election.leaderElect() ? election.resourceName() : election.resourceName() + "-" + identity;
        return new LeaseClusterService(client, leaseNamespace, leaseName, identity, election.leaseDuration(),
                election.renewDeadline(), election.retryPeriod());
    }

    /**
     * Half the shutdown timeout, at most {@link ReleaseCycle#DEFAULT_WRITE_WAIT}: a release cycle still waiting
     * for its write when the timeout forces the stop would be rejected by Camel with an error.
     */
    static Duration releaseWriteWait(String shutdownTimeoutSeconds) {
        long shutdownSeconds = Long.parseLong(shutdownTimeoutSeconds.trim());
        Duration half = Duration.ofMillis(shutdownSeconds * 500);
        return half.compareTo(ReleaseCycle.DEFAULT_WRITE_WAIT) < 0 ? half : ReleaseCycle.DEFAULT_WRITE_WAIT;
    }

    static SelectionPolicy selectionPolicy(CapoSettings s) {
        List<SelectorRequirement> requirements = new ArrayList<>(s.matchExpressions());
        s.matchLabels().forEach((k, v) -> requirements.add(new SelectorRequirement(k, SelectorRequirement.IN, List.of(v))));
        return new SelectionPolicy(s.namespaceLabelKey(), s.namespaceLabelValue(), requirements,
                s.selectorMode() == SelectorMode.ANY_OF);
    }

    static WebhookPolicy webhookPolicy(CapoSettings s, SelectionPolicy selection) {
        return new WebhookPolicy(selection, s.failureMode() == FailureMode.DENY, s.webhookBudget());
    }

    static ReleasePolicy releasePolicy(CapoSettings s) {
        return new ReleasePolicy(s.ipReserveTime(), s.ipReserveMaxCount(), s.staleGrace(), Map.of());
    }
}
