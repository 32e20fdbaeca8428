package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.capo.informers.ClusterCache;
import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

import static io.capo.it.ItSupport.metric;
import static io.capo.it.ItSupport.nextIpv4;
import static io.capo.it.ItSupport.statefulPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Capo watches the pods of opted-in namespaces only, with one informer per namespace that follows the opt-in label
 * while Capo runs: on a real API server, a namespace labelled after its pods were created, a namespace that loses the
 * label, and a node deletion whose pods sit in two opted-in namespaces.
 */
class NamespaceOptInIT {

    private static final Duration WAIT = Duration.ofSeconds(20);

    static ItEnvironment env;
    static KubernetesClient client;
    static CapoInstance capo;
    static ClusterCache cache;
    static String anchor;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        env = new ItEnvironment("optin", dir);
        client = env.client();
        anchor = env.namespace("anchor", true);
        capo = env.startCapo(cannotListPodsOfStuckNamespaces(), b -> b.setting("ipReserveTime", "1h"));
        cache = capo.bean("clusterCache", ClusterCache.class);
        env.registerWebhook(capo, anchor);
    }

    /**
     * Capo's client, except that it cannot list or watch the pods of a namespace named {@code stuck-...}: such a
     * namespace's informer never syncs, as when its first list is slow or keeps failing. A GET of one pod works.
     */
    static KubernetesClient cannotListPodsOfStuckNamespaces() {
        Pattern collection = Pattern.compile("/api/v1/namespaces/stuck[^/]*/pods");
        return new KubernetesClientBuilder().withConfig(env.k8s().config())
                .withHttpClientBuilderConsumer(http -> http.addOrReplaceInterceptor("stuck", new Interceptor() {
                    @Override
                    public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
                        URI uri = request.uri();
                        if (collection.matcher(uri.getPath()).matches()) {
                            builder.uri(uri.resolve(uri.getPath() + "-not-listable"));
                        }
                    }
                })).build();
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    static void label(String namespace, boolean optedIn) {
        client.namespaces().withName(namespace).edit(ns -> {
            if (optedIn) {
                ns.getMetadata().getLabels().put("ip-reserve", "enabled");
            } else {
                ns.getMetadata().getLabels().remove("ip-reserve");
            }
            return ns;
        });
    }

    /**
     * A marker pod evicted by the kubelet in the namespace (no admission call: only the namespace's informer sees
     * it); once it is parked, the events its informer delivered before are handled.
     */
    static void awaitEventsHandled(String namespace, String node) {
        String ip = nextIpv4();
        String name = ItSupport.unique("marker");
        statefulPod(client, namespace, name, node, ip);
        ItSupport.kubeletEvicted(client, namespace, name);
        await().atMost(WAIT).until(() -> env.reservations().has(ip + "/32"));
    }

    @Test
    void aNamespaceWhosePodsAreNotListedYetKeepsTheReplicaReadyAndItsEvictionsParked() {
        String stuck = env.namespace("stuck", false);
        String node = env.node("node");
        String ip = nextIpv4();
        statefulPod(client, stuck, "db-0", node, ip);
        await().atMost(WAIT).until(capo::ready);

        label(stuck, true);
        try {
            await().atMost(WAIT).until(() -> cache.watchedNamespaces().contains(stuck));
            // its informer keeps failing to list: the replica stays in the Service all the same
            await().during(Duration.ofSeconds(2)).atMost(WAIT)
                    .until(() -> capo.ready() && !cache.podsSynced(stuck) && !cache.synced());
            assertThat(cache.pod(stuck, "db-0")).isEmpty();

            // an eviction carries no oldObject and the cache misses the pod: one GET finds it, and it is parked
            assertThat(client.pods().inNamespace(stuck).withName("db-0").evict()).isTrue();

            assertThat(env.reservations().has(ip + "/32")).as("parked before the eviction was admitted").isTrue();
            await().atMost(WAIT).until(() -> "eviction".equals(env.reservations().reason(ip + "/32")));
        } finally {
            // the informer that never syncs goes, so that the other tests see a synced cache
            label(stuck, false);
            await().atMost(WAIT).until(() -> !cache.watchedNamespaces().contains(stuck) && cache.synced());
        }
    }

    @Test
    void podCreatedBeforeItsNamespaceWasOptedInIsKnownOnceTheLabelIsSet() {
        String later = env.namespace("later", false);
        String node = env.node("node");
        String ip = nextIpv4();
        Pod pod = statefulPod(client, later, "db-0", node, ip);
        assertThat(cache.watchedNamespaces()).doesNotContain(later);
        assertThat(cache.pod(later, "db-0")).isEmpty();

        label(later, true);

        await().atMost(WAIT).until(() -> cache.watchedNamespaces().contains(later) && cache.synced());
        assertThat(cache.pod(later, "db-0")).hasValueSatisfying(p -> assertThat(p.uid())
                .isEqualTo(pod.getMetadata().getUid()));
        assertThat(metric(capo, "capo_cache_watched_namespaces")).isGreaterThanOrEqualTo(2);
        // the new informer's first list brings the pod as added, not as a deletion or a late reservation
        awaitEventsHandled(later, node);
        assertThat(env.reservations().has(ip + "/32")).isFalse();

        // an eviction carries no oldObject: the webhook finds the pod in the cache
        assertThat(client.pods().inNamespace(later).withName("db-0").evict()).isTrue();

        await().atMost(WAIT).until(() -> env.reservations().has(ip + "/32"));
        JsonNode entry = env.reservations().entry(ip + "/32");
        assertThat(entry.path("reason").asText()).isEqualTo("eviction");
        assertThat(entry.path("uid").asText()).isEqualTo(pod.getMetadata().getUid());
    }

    @Test
    void namespaceThatLosesTheLabelIsNoLongerWatched() {
        String leaving = env.namespace("leaving", true);
        String node = env.node("node");
        String ip = nextIpv4();
        statefulPod(client, leaving, "cache-0", node, ip);
        await().atMost(WAIT).until(() -> cache.pod(leaving, "cache-0").isPresent());
        double watched = metric(capo, "capo_cache_watched_namespaces");

        label(leaving, false);

        await().atMost(WAIT).until(() -> !cache.watchedNamespaces().contains(leaving));
        assertThat(cache.pod(leaving, "cache-0")).isEmpty();
        assertThat(metric(capo, "capo_cache_watched_namespaces")).isEqualTo(watched - 1);
        assertThat(cache.synced()).isTrue();
        // its pods end unnoticed: kubelet eviction and deletion are no concern of Capo's any more
        ItSupport.kubeletEvicted(client, leaving, "cache-0");
        client.pods().inNamespace(leaving).withName("cache-0").withGracePeriod(0).delete();
        awaitEventsHandled(anchor, node);
        assertThat(env.reservations().has(ip + "/32")).isFalse();

        label(leaving, true);

        await().atMost(WAIT).until(() -> cache.watchedNamespaces().contains(leaving) && cache.synced());
        awaitEventsHandled(leaving, node);
    }

    @Test
    void deletedNodeParksTheSelectedPodsOfEveryOptedInNamespace() {
        String first = env.namespace("first", true);
        String second = env.namespace("second", false);
        String node = env.node("doomed");
        String ip1 = nextIpv4();
        String ip2 = nextIpv4();
        String unwatched = nextIpv4();
        String third = env.namespace("third", false);
        statefulPod(client, first, "kafka-0", node, ip1);
        statefulPod(client, second, "zk-0", node, ip2);
        statefulPod(client, third, "redis-0", node, unwatched);
        label(second, true);
        await().atMost(WAIT).until(() -> cache.pod(first, "kafka-0").isPresent()
                && cache.pod(second, "zk-0").isPresent() && cache.synced());
        assertThat(cache.podsOnNode(node)).extracting(p -> p.key())
                .containsExactlyInAnyOrder(first + "/kafka-0", second + "/zk-0");

        client.nodes().withName(node).delete();

        await().atMost(WAIT).until(() -> env.reservations().has(ip1 + "/32") && env.reservations().has(ip2 + "/32"));
        assertThat(env.reservations().reason(ip1 + "/32")).isEqualTo("node-deleted");
        assertThat(env.reservations().reason(ip2 + "/32")).isEqualTo("node-deleted");
        assertThat(env.reservations().has(unwatched + "/32")).isFalse();
    }
}
