package io.capo.informers;

import io.capo.informers.CompactObjects.CachedPod;
import io.capo.reservation.NamespaceFacts;
import io.capo.reservation.PodFacts;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class CompactObjectsTest {

    static ContainerStatus running(String name) {
        return new ContainerStatusBuilder().withName(name).withNewState().withNewRunning().endRunning().endState()
                .build();
    }

    static ContainerStatus terminated(String name, String finishedAt) {
        return new ContainerStatusBuilder().withName(name).withNewState().withNewTerminated()
                .withFinishedAt(finishedAt).withExitCode(137).endTerminated().endState().build();
    }

    static ContainerStatus waiting(String name) {
        return new ContainerStatusBuilder().withName(name).withNewState().withNewWaiting().withReason("x")
                .endWaiting().endState().build();
    }

    static Pod pod(String phase, String reason, String deletion, boolean hostNetwork, List<ContainerStatus> containers,
                   String... ips) {
        return new PodBuilder()
                .withNewMetadata().withNamespace("kafka").withName("broker-0").withUid("uid-1")
                .withResourceVersion("42").withDeletionTimestamp(deletion)
                .withLabels(Map.of("statefulset.kubernetes.io/pod-name", "broker-0", "app", "kafka"))
                .withAnnotations(Map.of("capo.io/ip-reserve", "true", "capo.io/ip-reserve-time", "2h",
                        "kubectl.kubernetes.io/last-applied-configuration", "{\"big\": \"" + "x".repeat(2000) + "\"}"))
                .withManagedFields(new io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder()
                        .withManager("kubectl").withOperation("Apply").build())
                .endMetadata()
                .withNewSpec().withNodeName("node-a").withHostNetwork(hostNetwork)
                .addNewContainer().withName("kafka").withImage("kafka:3").addNewEnv().withName("A").withValue("b")
                .endEnv().endContainer().endSpec()
                .withNewStatus().withPhase(phase).withReason(reason)
                .withPodIP(ips.length == 0 ? null : ips[0])
                .withPodIPs(Stream.of(ips).map(PodIP::new).toList())
                .withContainerStatuses(containers).endStatus()
                .build();
    }

    static Stream<Pod> pods() {
        return Stream.of(
                pod("Running", null, null, false, List.of(running("a"), running("b")), "10.0.0.5"),
                pod("Running", null, null, false, List.of(running("a")), "10.0.0.5", "fd00::5"),
                pod("Pending", null, null, false, List.of(), new String[0]),
                pod("Failed", "Evicted", null, false,
                        List.of(terminated("a", "2026-11-26T10:00:00Z"), terminated("b", "2026-11-26T10:00:07Z")),
                        "10.0.0.6"),
                pod("Running", null, "2026-11-26T11:00:00Z", false,
                        List.of(terminated("a", "2026-11-26T11:00:03Z"), running("b")), "10.0.0.7"),
                pod("Running", null, null, false, List.of(terminated("a", null), waiting("b")), "10.0.0.8"),
                pod("Running", null, null, false, List.of(terminated("a", null)), "10.0.0.9"),
                pod("Running", null, null, true, List.of(running("a")), "192.168.1.1"),
                new PodBuilder().withNewMetadata().withNamespace("kafka").withName("bare").withResourceVersion("1")
                        .endMetadata().build());
    }

    @ParameterizedTest
    @MethodSource("pods")
    void theRebuiltPodMapsToTheSameFactsAsTheFullOneExceptForeignAnnotations(Pod full) {
        CachedPod cached = CompactObjects.pod(full);
        PodFacts fromFull = PodFactsMapper.from(full);

        Pod rebuilt = CompactObjects.toPod(cached);

        assertThat(PodFactsMapper.from(rebuilt)).isEqualTo(cached.facts());
        assertThat(rebuilt.getMetadata().getResourceVersion()).isEqualTo(full.getMetadata().getResourceVersion());
        assertThat(cached.facts()).usingRecursiveComparison().ignoringFields("annotations").isEqualTo(fromFull);
        assertThat(rebuilt.getSpec().getNodeName()).isEqualTo(full.getSpec() == null ? null
                : full.getSpec().getNodeName());
    }

    @Test
    void keepsOnlyCapoAnnotations() {
        CachedPod cached = CompactObjects.pod(pod("Running", null, null, false, List.of(running("a")), "10.0.0.5"));

        assertThat(cached.facts().annotations())
                .isEqualTo(Map.of("capo.io/ip-reserve", "true", "capo.io/ip-reserve-time", "2h"));
        assertThat(cached.facts().ips()).containsExactly("10.0.0.5");
        assertThat(cached.facts().endedAt()).isNull();
    }

    @Test
    void endedAtAndContainersGoneSurviveTheRoundTrip() {
        Pod evicted = pod("Failed", "Evicted", null, false,
                List.of(terminated("a", "2026-11-26T10:00:00Z"), terminated("b", "2026-11-26T10:00:07Z")), "10.0.0.6");

        PodFacts facts = PodFactsMapper.from(CompactObjects.toPod(CompactObjects.pod(evicted)));

        assertThat(facts.containersGone()).isTrue();
        assertThat(facts.endedAt()).isEqualTo(Instant.parse("2026-11-26T10:00:07Z"));
        assertThat(facts.statusReason()).isEqualTo("Evicted");
        assertThat(facts.terminal()).isTrue();
    }

    @Test
    void namespaceKeepsLabelsAndDeletionState() {
        Namespace active = new NamespaceBuilder().withNewMetadata().withName("kafka").withResourceVersion("7")
                .withLabels(Map.of("ip-reserve", "enabled")).endMetadata().withNewStatus().withPhase("Active")
                .endStatus().build();
        Namespace deleting = new NamespaceBuilder().withNewMetadata().withName("old").withResourceVersion("8")
                .withDeletionTimestamp("2026-11-26T10:00:00Z").endMetadata().build();

        assertThat(CompactObjects.namespace(active).facts())
                .isEqualTo(new NamespaceFacts("kafka", Map.of("ip-reserve", "enabled"), false));
        assertThat(CompactObjects.namespace(deleting).facts().terminating()).isTrue();
        for (Namespace ns : new Namespace[]{active, deleting}) {
            var cached = CompactObjects.namespace(ns);
            Namespace rebuilt = CompactObjects.toNamespace(cached);
            assertThat(CompactObjects.namespace(rebuilt)).isEqualTo(cached);
        }
    }

    @Test
    void nodeKeepsItsNameOnly() {
        Node node = new NodeBuilder().withNewMetadata().withName("node-a").withResourceVersion("3")
                .withLabels(Map.of("zone", "a")).endMetadata().withNewStatus().addNewImage()
                .withNames("registry/image:1").endImage().endStatus().build();

        Node rebuilt = CompactObjects.toNode(CompactObjects.node(node));

        assertThat(rebuilt.getMetadata().getName()).isEqualTo("node-a");
        assertThat(rebuilt.getMetadata().getResourceVersion()).isEqualTo("3");
        assertThat(rebuilt.getStatus()).isNull();
    }

    @Test
    void storeHandsTheInformerRebuiltObjectsAndCapoTheRecords() {
        CompactStore<Pod, CachedPod> store = new CompactStore<>(CompactObjects::pod, CompactObjects::toPod);
        Pod first = pod("Running", null, null, false, List.of(running("a")), "10.0.0.5");
        Pod second = new PodBuilder(first).editMetadata().withResourceVersion("43").endMetadata().build();
        String key = store.getKey(first);

        assertThat(store.put(key, first)).isNull();
        Pod previous = store.put(key, second);

        assertThat(key).isEqualTo("kafka/broker-0");
        assertThat(previous.getMetadata().getResourceVersion()).isEqualTo("42");
        assertThat(store.get(key).getMetadata().getResourceVersion()).isEqualTo("43");
        assertThat(store.record(key).facts().uid()).isEqualTo("uid-1");
        assertThat(store.size()).isEqualTo(1);
        assertThat(store.remove(key).getMetadata().getName()).isEqualTo("broker-0");
        assertThat(store.record(key)).isNull();
        assertThat(store.keySet()).isEmpty();
    }
}
