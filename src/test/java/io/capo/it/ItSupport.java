package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capo.calico.CalicoApi;
import io.capo.calico.ReservedIps;
import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIPBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Objects as a kubelet-less cluster needs them, and readers for what Capo wrote. */
public final class ItSupport {

    public static final String STATEFUL_LABEL = "statefulset.kubernetes.io/pod-name";
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final ObjectMapper JSON_MAPPER = JSON;
    private static final AtomicInteger IPS = new AtomicInteger();
    private static final AtomicInteger NAMES = new AtomicInteger();

    private ItSupport() {
    }

    /** A name no other IT class uses in this run (namespaces, objects, Leases). */
    public static String unique(String prefix) {
        return (prefix + "-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36) + "-"
                + NAMES.incrementAndGet()).toLowerCase(Locale.ROOT);
    }

    /** A pod IPv4 address used by no other pod in this run. */
    public static String nextIpv4() {
        int n = IPS.incrementAndGet();
        return "10." + (100 + n / 65_536) + "." + (n / 256 % 256) + "." + (n % 256);
    }

    public static String nextIpv6() {
        int n = IPS.incrementAndGet();
        // canonical text (RFC 5952), as Capo writes it
        return "fd00:10::" + Integer.toHexString(n % 65_536 == 0 ? 1 : n % 65_536);
    }

    public static void namespace(KubernetesClient client, String name, boolean optedIn) {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name)
                .withLabels(optedIn ? Map.of("ip-reserve", "enabled") : Map.of()).endMetadata().build()).create();
    }

    public static void node(KubernetesClient client, String name) {
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName(name).endMetadata().build()).create();
    }

    /** A StatefulSet-style pod (selected by the default selector) bound to the node, running with these IPs. */
    public static Pod statefulPod(KubernetesClient client, String namespace, String name, String node, String... ips) {
        return runningPod(client, namespace, name, node, Map.of(STATEFUL_LABEL, name), ips);
    }

    /** Creates the pod, then reports it running with the IPs as the kubelet would (there is no kubelet here). */
    public static Pod runningPod(KubernetesClient client, String namespace, String name, String node,
                                 Map<String, String> labels, String... ips) {
        Pod created = client.pods().inNamespace(namespace).resource(new PodBuilder()
                .withNewMetadata().withNamespace(namespace).withName(name).withLabels(labels).endMetadata()
                .withNewSpec().withNodeName(node).withTerminationGracePeriodSeconds(30L)
                .addNewContainer().withName("main").withImage("busybox").endContainer()
                .endSpec().build()).create();
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        PodStatusBuilder status = new PodStatusBuilder().withPhase("Running").withHostIP("192.168.0.1")
                .withStartTime(now)
                .withConditions(new PodConditionBuilder().withType("Ready").withStatus("True")
                        .withLastTransitionTime(now).build())
                .withContainerStatuses(new ContainerStatusBuilder().withName("main").withImage("busybox")
                        .withImageID("busybox").withReady(true).withRestartCount(0).withStarted(true)
                        .withNewState().withNewRunning().withStartedAt(now).endRunning().endState().build());
        if (ips.length > 0) {
            status.withPodIP(ips[0]).withPodIPs(Arrays.stream(ips).map(ip -> new PodIPBuilder().withIp(ip).build())
                    .toList());
        }
        created.setStatus(status.build());
        return client.pods().inNamespace(namespace).resource(created).updateStatus();
    }

    /** What the kubelet reports after a node-pressure eviction: phase Failed, reason Evicted, containers ended. */
    public static Pod kubeletEvicted(KubernetesClient client, String namespace, String name) {
        Pod pod = client.pods().inNamespace(namespace).withName(name).get();
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        PodStatus status = new PodStatusBuilder(pod.getStatus()).withPhase("Failed").withReason("Evicted")
                .withMessage("The node was low on resource: memory.")
                .withConditions(new PodConditionBuilder().withType("Ready").withStatus("False")
                        .withLastTransitionTime(now).build())
                .withContainerStatuses(new ContainerStatusBuilder().withName("main").withImage("busybox")
                        .withImageID("busybox").withReady(false).withRestartCount(0).withStarted(false)
                        .withNewState().withNewTerminated().withExitCode(137).withReason("Error")
                        .withStartedAt(pod.getStatus().getStartTime()).withFinishedAt(now).endTerminated()
                        .endState().build())
                .build();
        pod.setStatus(status);
        return client.pods().inNamespace(namespace).resource(pod).updateStatus();
    }

    public static boolean podExists(KubernetesClient client, String namespace, String name) {
        return client.pods().inNamespace(namespace).withName(name).get() != null;
    }

    /** Capo's IPReservation object as stored in the API server. */
    public record StoredReservations(List<String> cidrs, Map<String, JsonNode> entries, String resourceVersion) {

        public JsonNode entry(String cidr) {
            return entries.get(cidr);
        }

        public boolean has(String cidr) {
            return cidrs.contains(cidr) && entries.containsKey(cidr);
        }

        public String reason(String cidr) {
            JsonNode e = entries.get(cidr);
            return e == null ? null : e.path("reason").asText();
        }

        public boolean gone(String cidr) {
            JsonNode e = entries.get(cidr);
            return e != null && e.hasNonNull("goneAt");
        }
    }

    public static StoredReservations read(KubernetesClient client, String objectName) {
        return read(client, CalicoApi.V3, objectName);
    }

    /** The namespace Capo runs in on the test bed (no POD_NAMESPACE, no namespace in the kubeconfig). */
    public static final String CAPO_NAMESPACE = "default";

    /** The CIDRs of the IPReservation plus, by CIDR, the spec of each ReservedIP of that object set. */
    @SuppressWarnings("unchecked")
    public static StoredReservations read(KubernetesClient client, String apiVersion, String objectName) {
        GenericKubernetesResource resource = client.genericKubernetesResources(new CalicoApi(apiVersion).context())
                .withName(objectName).get();
        if (resource == null) {
            return new StoredReservations(List.of(), Map.of(), null);
        }
        List<String> cidrs = new ArrayList<>();
        Object spec = resource.getAdditionalProperties().get("spec");
        if (spec instanceof Map<?, ?> map && map.get("reservedCIDRs") instanceof List<?> list) {
            list.forEach(c -> cidrs.add(String.valueOf(c)));
        }
        Map<String, JsonNode> entries = new LinkedHashMap<>();
        for (GenericKubernetesResource r : reservedIps(client, objectName)) {
            JsonNode entry = JSON.valueToTree(r.getAdditionalProperties().get("spec"));
            entries.put(entry.path("cidr").asText(), entry);
        }
        return new StoredReservations(List.copyOf(cidrs), entries, resource.getMetadata().getResourceVersion());
    }

    /** The ReservedIP objects of one object set (its base name). */
    public static List<GenericKubernetesResource> reservedIps(KubernetesClient client, String baseName) {
        return client.genericKubernetesResources(ReservedIps.context()).inNamespace(CAPO_NAMESPACE)
                .withLabel(ReservedIps.SET_LABEL, baseName).list().getItems();
    }

    /**
     * Sum of the samples of a Prometheus metric on the instance's /observe/metrics whose label sets contain every
     * given {@code key="value"} fragment; 0 when absent.
     */
    public static double metric(CapoInstance capo, String name, String... labels) {
        String body;
        try {
            body = capo.get("/observe/metrics").body();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        double sum = 0;
        for (String line : body.split("\n")) {
            if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
                continue;
            }
            boolean all = true;
            for (String label : labels) {
                all &= line.contains(label);
            }
            if (all) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }
}
