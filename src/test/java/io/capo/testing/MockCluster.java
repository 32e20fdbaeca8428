package io.capo.testing;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;

import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;

/** The fabric8 mock API server in CRUD mode, with Calico's IPReservation CRDs and Capo's ReservedIP CRD, and helpers to make objects. */
public final class MockCluster implements AutoCloseable {

    private final KubernetesMockServer server;
    private final KubernetesClient client;

    public MockCluster() {
        // one map: expectations set on the server are what its dispatcher answers before the CRUD store
        Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
        server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), expectations,
                new KubernetesMixedDispatcher(expectations), false);
        server.init();
        client = server.createClient();
        installCrds(client);
    }

    public static void installCrds(KubernetesClient client) {
        for (String file : List.of("/crds/ipreservations-v3.yaml", "/crds/ipreservations-crd-v1.yaml",
                "/crds/reservedips.capo.io.yaml")) {
            try (InputStream in = MockCluster.class.getResourceAsStream(file)) {
                client.apiextensions().v1().customResourceDefinitions()
                        .resource(client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class))
                        .create();
            } catch (Exception e) {
                throw new IllegalStateException("cannot install " + file, e);
            }
        }
    }

    public KubernetesClient client() {
        return client;
    }

    /** The server, for expectations that take precedence over its CRUD answers (e.g. a list that keeps failing). */
    public KubernetesMockServer server() {
        return server;
    }

    /** A fresh client of the same server, as another replica would have. */
    public KubernetesClient newClient() {
        return server.createClient();
    }

    public void namespace(String name, boolean optedIn) {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name)
                .withLabels(optedIn ? Map.of("ip-reserve", "enabled") : Map.of()).endMetadata().build()).create();
    }

    public void node(String name) {
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName(name).endMetadata().build())
                .create();
    }

    /** A running StatefulSet-style pod with the given IPs, as the kubelet would report it. */
    public static Pod statefulPod(String namespace, String name, String node, String... ips) {
        PodStatusBuilder status = new PodStatusBuilder().withPhase("Running");
        if (ips.length > 0) {
            status.withPodIP(ips[0]);
            for (String ip : ips) {
                status.addNewPodIP().withIp(ip).endPodIP();
            }
        }
        return new PodBuilder().withNewMetadata().withNamespace(namespace).withName(name)
                .withUid(java.util.UUID.randomUUID().toString())
                .addToLabels("statefulset.kubernetes.io/pod-name", name).endMetadata()
                .withNewSpec().withNodeName(node).addNewContainer().withName("main").withImage("busybox").endContainer()
                .endSpec().withStatus(status.build()).build();
    }

    public Pod create(Pod pod) {
        return client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
    }

    /** The pod of that name when it exists already (several reviews of one pod), else the pod created. */
    public Pod ensure(Pod pod) {
        Pod existing = client.pods().inNamespace(pod.getMetadata().getNamespace())
                .withName(pod.getMetadata().getName()).get();
        return existing != null ? existing : create(pod);
    }

    @Override
    public void close() {
        client.close();
        server.destroy();
    }
}
