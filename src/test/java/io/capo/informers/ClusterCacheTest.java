package io.capo.informers;

import io.capo.reservation.SelectorRequirement;
import io.capo.reservation.SelectionPolicy;
import io.capo.testing.MockCluster;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The opt-in label comes from the config: a reload that changes it moves the pod informers (mock API server). */
class ClusterCacheTest {

    final MockCluster cluster = new MockCluster();
    final AtomicReference<SelectionPolicy> policy = new AtomicReference<>(policy("ip-reserve", "enabled"));
    ClusterCache cache;

    static SelectionPolicy policy(String key, String value) {
        return new SelectionPolicy(key, value, List.of(SelectorRequirement.exists("app")), true);
    }

    @AfterEach
    void close() {
        if (cache != null) {
            cache.close();
        }
        cluster.close();
    }

    @Test
    void aReloadedOptInLabelStartsAndStopsPodInformers() {
        cluster.namespace("kafka", true);
        cluster.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("team")
                .withLabels(Map.of("capo", "on")).endMetadata().build()).create();
        cluster.create(MockCluster.statefulPod("team", "db-0", "node-1", "10.0.0.1"));
        cache = new ClusterCache(cluster.client(), 0, policy::get);
        cache.start();
        await().until(cache::synced);
        assertThat(cache.watchedNamespaces()).containsExactly("kafka");
        assertThat(cache.pod("team", "db-0")).isEmpty();

        policy.set(policy("capo", "on"));
        cache.optInChanged();

        await().until(() -> cache.watchedNamespaces().equals(java.util.Set.of("team")) && cache.synced());
        assertThat(cache.pod("team", "db-0")).isPresent();
        assertThat(cache.podsSynced("team")).isTrue();
        assertThat(cache.podsSynced("kafka")).as("no longer watched: a miss says nothing").isFalse();
        assertThat(cache.cachedPods()).isEqualTo(1);
        assertThat(cache.podsOnNode("node-1")).hasSize(1);
    }

    @Test
    void aDeletedNamespaceIsNoLongerWatchedAndItsPodsAreForgotten() {
        cluster.namespace("kafka", true);
        cluster.create(MockCluster.statefulPod("kafka", "kafka-0", "node-1", "10.0.0.1"));
        cache = new ClusterCache(cluster.client(), 0, policy::get);
        cache.start();
        await().until(() -> cache.synced() && cache.pod("kafka", "kafka-0").isPresent());

        cluster.client().namespaces().withName("kafka").delete();

        await().until(() -> cache.watchedNamespaces().isEmpty());
        assertThat(cache.pod("kafka", "kafka-0")).isEmpty();
        assertThat(cache.podsOnNode("node-1")).isEmpty();
        assertThat(cache.synced()).isTrue();
    }

    @Test
    void aNamespaceOptedInLaterDoesNotTakeReadinessBack() {
        cluster.namespace("kafka", true);
        // the pods of "late" cannot be listed: its informer never syncs
        cluster.server().expect().get().withPath("/api/v1/namespaces/late/pods?limit=500")
                .andReturn(500, "{}").always();
        cache = new ClusterCache(cluster.client(), 0, policy::get);
        cache.start();
        await().until(cache::ready);
        assertThat(cache.podsSynced("kafka")).isTrue();

        cluster.namespace("late", true);

        await().until(() -> cache.watchedNamespaces().contains("late"));
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> !cache.synced());
        assertThat(cache.podsSynced("late")).isFalse();
        assertThat(cache.podsSynced("kafka")).isTrue();
        assertThat(cache.ready()).as("a replica stays ready while a later informer lists").isTrue();
    }

    @Test
    void readinessWaitsForTheNamespacesOptedInAtStart() {
        cluster.namespace("kafka", true);
        cluster.server().expect().get().withPath("/api/v1/namespaces/kafka/pods?limit=500")
                .andReturn(500, "{}").always();
        cache = new ClusterCache(cluster.client(), 0, policy::get);
        cache.start();

        await().until(() -> cache.watchedNamespaces().contains("kafka"));
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> !cache.ready());
        assertThat(cache.podsSynced("kafka")).isFalse();
    }

    @Test
    void anInformerWhoseFirstListFailsKeepsTrying() {
        cluster.namespace("kafka", true);
        cluster.create(MockCluster.statefulPod("kafka", "kafka-0", "node-1", "10.0.0.1"));
        cluster.server().expect().get().withPath("/api/v1/namespaces/kafka/pods?limit=500")
                .andReturn(403, "{}").once();
        cache = new ClusterCache(cluster.client(), 0, policy::get);
        cache.start();

        await().atMost(Duration.ofSeconds(30)).until(() -> cache.ready() && cache.podsSynced("kafka"));
        assertThat(cache.pod("kafka", "kafka-0")).isPresent();
    }
}
