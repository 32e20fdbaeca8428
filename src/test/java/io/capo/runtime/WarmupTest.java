package io.capo.runtime;

import io.capo.reservation.SelectionPolicy;
import io.capo.reservation.SelectorRequirement;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The warm-up takes the write path of a selected pod whatever the configured selection is. */
class WarmupTest {

    private static KubernetesClient client;

    @BeforeAll
    static void client() {
        // only its serialization is used: nothing connects
        client = new KubernetesClientBuilder().build();
    }

    @AfterAll
    static void close() {
        client.close();
    }

    private static int reservedWith(SelectionPolicy selection) {
        Warmup warmup = new Warmup(client);
        warmup.run(selection);
        assertThat(warmup.done()).isTrue();
        return warmup.reserved();
    }

    @Test
    void theDefaultSelectionIsWarmed() {
        assertThat(reservedWith(new SelectionPolicy("ip-reserve", "enabled",
                List.of(SelectorRequirement.exists("statefulset.kubernetes.io/pod-name")), true))).isPositive();
    }

    @Test
    void aCustomNamespaceLabelAndPodSelectorAreWarmed() {
        SelectionPolicy custom = new SelectionPolicy("example.com/stateful", "yes", List.of(
                new SelectorRequirement("app.kubernetes.io/name", SelectorRequirement.IN, List.of("redis", "kafka")),
                new SelectorRequirement("tier", SelectorRequirement.NOT_IN, List.of("cache")),
                SelectorRequirement.exists("example.com/member")), false);
        assertThat(reservedWith(custom)).isPositive();
    }

    @Test
    void aSelectorNoLabelsSatisfyIsWarmedThroughTheOptInAnnotation() {
        SelectionPolicy impossible = new SelectionPolicy("ip-reserve", "enabled", List.of(
                new SelectorRequirement("app", SelectorRequirement.IN, List.of("redis")),
                new SelectorRequirement("app", SelectorRequirement.NOT_IN, List.of("redis"))), false);
        assertThat(Warmup.podMetadata(impossible)).contains(SelectionPolicy.RESERVE_ANNOTATION);
        assertThat(reservedWith(impossible)).isPositive();
    }
}
