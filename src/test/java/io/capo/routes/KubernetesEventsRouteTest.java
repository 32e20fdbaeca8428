package io.capo.routes;

import io.capo.calico.CalicoReservationStore;
import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationReason;
import io.capo.runtime.CapoConfiguration;
import io.capo.testing.MockCluster;
import io.capo.testing.TestCertificates;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.apache.camel.BeanInject;
import org.apache.camel.main.MainConfigurationProperties;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.camel.test.main.junit5.Configure;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Path;
import java.time.Clock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The backstop routes with the bundled YAML, fed by informers on the mock API server: what ends without a
 * DELETE admission still gets its IP parked. The webhook's HTTP endpoint is replaced, no server is needed.
 */
@CamelMainTest(properties = {
        "camel.server.enabled=false",
        "camel.management.enabled=false",
        "camel.main.jmxEnabled=false",
        "capo.settings.webhook.certDir=target/test-certs/events-route",
        "capo.settings.leaderElection.resourceNamespace=default",
        "capo.settings.reservationObjectName=events-route",
        "capo.identity=events-route-test"
}, replaceRouteFromWith = {"admission-webhook=direct:admission-review"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KubernetesEventsRouteTest {

    static final MockCluster CLUSTER = new MockCluster();

    static {
        new TestCertificates("events-route-ca").writeServing(Path.of("target/test-certs/events-route"), "capo");
        CLUSTER.namespace("kafka", true);
        CLUSTER.namespace("web", false);
    }

    @BeanInject("reservationStore")
    CalicoReservationStore store;

    @Configure
    protected void configure(MainConfigurationProperties configuration) {
        configuration.addConfiguration(new CapoConfiguration(CLUSTER.client(), Clock.systemUTC()));
    }

    @AfterAll
    void closeCluster() {
        CLUSTER.close();
    }

    Reservation awaitEntry(String cidr) {
        await().until(() -> store.find(cidr).isPresent());
        return store.find(cidr).orElseThrow();
    }

    @Test
    void kubeletEvictionIsParkedWithoutAnyDelete() {
        Pod pod = CLUSTER.create(MockCluster.statefulPod("kafka", "kafka-0", "node-1", "10.10.0.1"));
        CLUSTER.client().pods().inNamespace("kafka").resource(new PodBuilder(pod).editStatus().withPhase("Failed")
                .withReason("Evicted").withMessage("The node was low on resource: memory.").endStatus().build())
                .updateStatus();

        Reservation entry = awaitEntry("10.10.0.1/32");
        assertThat(entry.reason()).isEqualTo(ReservationReason.KUBELET_EVICTION);
        assertThat(entry.uid()).isEqualTo(pod.getMetadata().getUid());
        assertThat(entry.goneAt()).isNotNull();
    }

    @Test
    void podThatDisappearsUnparkedIsParkedLate() {
        Pod pod = CLUSTER.create(MockCluster.statefulPod("kafka", "kafka-1", "node-1", "10.10.0.2", "fd00:10::2"));
        await().until(() -> store.synced());
        CLUSTER.client().pods().inNamespace("kafka").withName("kafka-1").withGracePeriod(0).delete();

        assertThat(awaitEntry("10.10.0.2/32").reason()).isEqualTo(ReservationReason.LATE);
        assertThat(awaitEntry("fd00:10::2/128").pod()).isEqualTo("kafka-1");
    }

    @Test
    void deletedNodeParksItsSelectedPods() {
        CLUSTER.node("node-9");
        CLUSTER.create(MockCluster.statefulPod("kafka", "kafka-90", "node-9", "10.10.9.1"));
        CLUSTER.create(MockCluster.statefulPod("kafka", "kafka-91", "node-9", "10.10.9.2"));
        CLUSTER.create(MockCluster.statefulPod("kafka", "kafka-92", "node-8", "10.10.8.1"));
        await().until(() -> CLUSTER.client().pods().inNamespace("kafka").list().getItems().size() >= 3);
        await().until(() -> store.synced());
        CLUSTER.client().nodes().withName("node-9").delete();

        assertThat(awaitEntry("10.10.9.1/32").reason()).isEqualTo(ReservationReason.NODE_DELETED);
        assertThat(awaitEntry("10.10.9.2/32").goneAt()).isNull();
        assertThat(store.find("10.10.8.1/32")).isEmpty();
    }

    @Test
    void podsOutsideOptedInNamespacesAreLeftAlone() {
        Pod pod = CLUSTER.create(MockCluster.statefulPod("web", "web-0", "node-1", "10.10.1.1"));
        CLUSTER.client().pods().inNamespace("web").resource(new PodBuilder(pod).editStatus().withPhase("Failed")
                .withReason("Evicted").endStatus().build()).updateStatus();
        CLUSTER.client().pods().inNamespace("web").withName("web-0").withGracePeriod(0).delete();
        // a marker pod handled after the web pod proves the events were processed
        Pod marker = CLUSTER.create(MockCluster.statefulPod("kafka", "marker", "node-1", "10.10.1.99"));
        CLUSTER.client().pods().inNamespace("kafka").withName(marker.getMetadata().getName()).withGracePeriod(0)
                .delete();
        awaitEntry("10.10.1.99/32");
        assertThat(store.find("10.10.1.1/32")).isEmpty();
    }
}
