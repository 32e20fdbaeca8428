package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.capo.calico.CalicoApi;
import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static io.capo.it.ItSupport.metric;
import static io.capo.it.ItSupport.nextIpv4;
import static io.capo.it.ItSupport.podExists;
import static io.capo.it.ItSupport.statefulPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the webhook cannot see, caught by the informer backstop on a real API server, with no webhook registered
 * at all: node deletion, kubelet node-pressure eviction, and a pod deleted while the webhook is not there.
 * Writes through crd.projectcalico.org/v1 (the setting for clusters without the v3 API).
 */
class BackstopIT {

    private static final Duration WAIT = Duration.ofSeconds(20);

    static ItEnvironment env;
    static KubernetesClient client;
    static CapoInstance capo;
    static String ns;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        env = new ItEnvironment("backstop", dir).calicoApiVersion(CalicoApi.CRD_V1);
        client = env.client();
        ns = env.namespace("kafka", true);
        capo = env.startCapo(b -> b.setting("ipReserveTime", "1h"));
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void deletedNodeGetsTheIpsOfItsSelectedPodsReservedWhileThePodsStillExist() {
        String node = env.node("doomed-node");
        String other = env.node("other-node");
        String ip0 = nextIpv4();
        String ip1 = nextIpv4();
        String stateless = nextIpv4();
        String elsewhere = nextIpv4();
        Pod broker0 = ItSupport.runningPod(client, ns, "broker-0", node, Map.of("brokerId", "0"), ip0);
        Pod broker1 = statefulPod(client, ns, "broker-1", node, ip1);
        ItSupport.runningPod(client, ns, "web-0", node, Map.of("app", "web"), stateless);
        statefulPod(client, ns, "broker-2", other, elsewhere);

        client.nodes().withName(node).delete();

        await().atMost(WAIT).until(() -> env.reservations().has(ip0 + "/32") && env.reservations().has(ip1 + "/32"));
        ItSupport.StoredReservations stored = env.reservations();
        for (Pod pod : new Pod[]{broker0, broker1}) {
            String cidr = pod.getStatus().getPodIP() + "/32";
            JsonNode entry = stored.entry(cidr);
            assertThat(entry.path("reason").asText()).isEqualTo("node-deleted");
            assertThat(entry.path("uid").asText()).isEqualTo(pod.getMetadata().getUid());
            assertThat(entry.path("node").asText()).isEqualTo(node);
            // no pod GC in this cluster: the pods are still there, nothing deleted them yet
            assertThat(podExists(client, ns, pod.getMetadata().getName())).isTrue();
        }
        assertThat(stored.has(stateless + "/32")).as("not selected").isFalse();
        assertThat(stored.has(elsewhere + "/32")).as("on another node").isFalse();
    }

    @Test
    void kubeletEvictionIsReservedWithoutAnyDelete() {
        String ip = nextIpv4();
        Pod pod = statefulPod(client, ns, "zk-0", "node-x", ip);

        ItSupport.kubeletEvicted(client, ns, "zk-0");

        await().atMost(WAIT).until(() -> env.reservations().has(ip + "/32"));
        JsonNode entry = env.reservations().entry(ip + "/32");
        assertThat(entry.path("reason").asText()).isEqualTo("kubelet-eviction");
        assertThat(entry.path("uid").asText()).isEqualTo(pod.getMetadata().getUid());
        assertThat(entry.hasNonNull("goneAt")).as("the containers ended: the TTL runs").isTrue();
        assertThat(podExists(client, ns, "zk-0")).isTrue();
    }

    @Test
    void podDeletedWithoutTheWebhookIsReservedLate() {
        String ip = nextIpv4();
        Pod pod = statefulPod(client, ns, "redis-0", "node-x", ip);
        double late = metric(capo, "capo_late_reservations_total");

        client.pods().inNamespace(ns).withName("redis-0").withGracePeriod(0).delete();

        await().atMost(WAIT).until(() -> env.reservations().has(ip + "/32"));
        JsonNode entry = env.reservations().entry(ip + "/32");
        assertThat(entry.path("reason").asText()).isEqualTo("late");
        assertThat(entry.path("uid").asText()).isEqualTo(pod.getMetadata().getUid());
        assertThat(entry.hasNonNull("goneAt")).isTrue();
        await().atMost(WAIT).until(() -> metric(capo, "capo_late_reservations_total") > late);
        assertThat(metric(capo, "capo_late_reservations_total")).isEqualTo(late + 1);
    }
}
