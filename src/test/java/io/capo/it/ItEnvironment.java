package io.capo.it;

import io.capo.calico.CalicoApi;
import io.capo.calico.ReservedIps;
import io.capo.testing.CapoInstance;
import io.capo.testing.TestCertificates;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.awaitility.Awaitility.await;

/**
 * What one IT class owns on the shared API server: its namespaces, nodes, reservation object, Lease and webhook
 * registration, and its Capo replicas (each with a Kubernetes client of its own). {@link #close()} removes it all,
 * so the next class starts from a clean cluster.
 */
public final class ItEnvironment implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ItEnvironment.class);

    private final KubeApiServerFixture k8s;
    private final KubernetesClient client;
    private final TestCertificates certificates;
    private final Path certDir;
    private final String objectName;
    private final String leaseName;
    private final String webhookName;
    private final List<String> namespaces = new ArrayList<>();
    private final List<String> nodes = new ArrayList<>();
    private final Map<CapoInstance, KubernetesClient> replicas = new IdentityHashMap<>();
    private String calicoApiVersion = CalicoApi.V3;
    private boolean webhookRegistered;

    public ItEnvironment(String tag, Path tempDir) {
        this(KubeApiServerFixture.get(), tag, tempDir);
    }

    /** On another API server than the shared one (e.g. {@link KubeApiServerFixture#dedicated}). */
    public ItEnvironment(KubeApiServerFixture k8s, String tag, Path tempDir) {
        this.k8s = k8s;
        this.client = k8s.client();
        this.certificates = new TestCertificates("capo-it-ca-" + tag);
        this.certDir = certificates.writeServing(tempDir.resolve("certs"), "capo");
        this.objectName = ItSupport.unique("capo-it-" + tag);
        this.leaseName = ItSupport.unique("capo-" + tag);
        this.webhookName = ItSupport.unique(WebhookRegistration.NAME_PREFIX + tag);
        // a class that failed to clean up must not leave the API server calling a Capo that is gone
        WebhookRegistration.unregisterAll(client);
    }

    public KubeApiServerFixture k8s() {
        return k8s;
    }

    public KubernetesClient client() {
        return client;
    }

    public TestCertificates certificates() {
        return certificates;
    }

    public Path certDir() {
        return certDir;
    }

    public String objectName() {
        return objectName;
    }

    public String leaseName() {
        return leaseName;
    }

    public ItEnvironment calicoApiVersion(String apiVersion) {
        this.calicoApiVersion = apiVersion;
        return this;
    }

    public String namespace(String prefix, boolean optedIn) {
        String name = ItSupport.unique(prefix);
        ItSupport.namespace(client, name, optedIn);
        namespaces.add(name);
        return name;
    }

    public String node(String prefix) {
        String name = ItSupport.unique(prefix);
        ItSupport.node(client, name);
        nodes.add(name);
        return name;
    }

    /** A Capo replica on this class's object and Lease, with a client of its own. */
    public CapoInstance startCapo(Consumer<CapoInstance.Builder> customize) throws Exception {
        return startCapo(k8s.newClient(), customize);
    }

    public CapoInstance startCapo(KubernetesClient capoClient, Consumer<CapoInstance.Builder> customize)
            throws Exception {
        CapoInstance.Builder builder = CapoInstance.builder(capoClient, certDir)
                .setting("reservationObjectName", objectName)
                .setting("calicoApiVersion", calicoApiVersion)
                .setting("leaderElection.resourceName", leaseName);
        customize.accept(builder);
        try {
            CapoInstance capo = builder.start();
            synchronized (replicas) {
                replicas.put(capo, capoClient);
            }
            return capo;
        } catch (Exception e) {
            capoClient.close();
            throw e;
        }
    }

    public void stopCapo(CapoInstance capo) throws Exception {
        KubernetesClient own;
        synchronized (replicas) {
            own = replicas.remove(capo);
        }
        try {
            capo.close();
        } finally {
            if (own != null) {
                own.close();
            }
        }
    }

    /**
     * Registers the webhook for this replica and waits until the API server calls it: dry-run deletions of a
     * canary pod in an opted-in namespace until the replica counts a review.
     */
    public void registerWebhook(CapoInstance capo, String optedInNamespace) {
        registerWebhook(capo.webhookPort(), List.of(capo), optedInNamespace);
    }

    /** Registers the webhook at a port (a replica's, or a balancer's in front of the replicas). */
    public void registerWebhook(int port, List<CapoInstance> serving, String optedInNamespace) {
        WebhookRegistration.register(client, webhookName, port, certificates.caPem());
        webhookRegistered = true;
        String canary = ItSupport.unique("canary");
        ItSupport.runningPod(client, optedInNamespace, canary, "no-node", Map.of("app", "canary"),
                ItSupport.nextIpv4());
        double before = reviews(serving);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            client.pods().inNamespace(optedInNamespace).withName(canary).dryRun().delete();
            return reviews(serving) > before;
        });
    }

    private static double reviews(List<CapoInstance> serving) {
        return serving.stream().mapToDouble(c -> ItSupport.metric(c, "capo_webhook_requests_total")).sum();
    }

    public void unregisterWebhook() {
        if (webhookRegistered) {
            WebhookRegistration.unregister(client, webhookName);
            webhookRegistered = false;
        }
    }

    /** The holder named in this class's Lease, null when there is none. */
    public String leaseHolder() {
        var lease = client.leases().inNamespace("default").withName(leaseName).get();
        return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
    }

    /** The replica that holds the Lease and says so itself; waits for one. */
    public CapoInstance awaitLeader(List<CapoInstance> candidates, Duration atMost) {
        return await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> {
            String holder = leaseHolder();
            return candidates.stream().filter(c -> c.identity().equals(holder)
                    && ItSupport.metric(c, "leader_election_master_status") == 1.0).findFirst().orElse(null);
        }, java.util.Objects::nonNull);
    }

    public ItSupport.StoredReservations reservations() {
        return ItSupport.read(client, calicoApiVersion, objectName);
    }

    @Override
    public void close() {
        try {
            unregisterWebhook();
        } catch (RuntimeException e) {
            LOG.warn("cannot remove webhook registration {}: {}", webhookName, e.toString());
        }
        List<CapoInstance> running;
        synchronized (replicas) {
            running = new ArrayList<>(replicas.keySet());
        }
        for (CapoInstance capo : running) {
            try {
                stopCapo(capo);
            } catch (Exception e) {
                LOG.warn("cannot stop Capo {}: {}", capo.identity(), e.toString());
            }
        }
        // no namespace controller and no pod GC here: remove the pods ourselves
        for (String namespace : namespaces) {
            try {
                client.pods().inNamespace(namespace).withGracePeriod(0).delete();
                client.namespaces().withName(namespace).delete();
            } catch (RuntimeException e) {
                LOG.warn("cannot clean up namespace {}: {}", namespace, e.toString());
            }
        }
        for (String node : nodes) {
            try {
                client.nodes().withName(node).delete();
            } catch (RuntimeException e) {
                LOG.warn("cannot delete node {}: {}", node, e.toString());
            }
        }
        try {
            client.genericKubernetesResources(new CalicoApi(calicoApiVersion).context()).withName(objectName).delete();
            client.genericKubernetesResources(ReservedIps.context()).inNamespace(ItSupport.CAPO_NAMESPACE)
                    .withLabel(ReservedIps.SET_LABEL, objectName).delete();
            client.leases().inNamespace("default").withName(leaseName).delete();
        } catch (RuntimeException e) {
            LOG.warn("cannot delete {} / Lease {}: {}", objectName, leaseName, e.toString());
        }
    }
}
