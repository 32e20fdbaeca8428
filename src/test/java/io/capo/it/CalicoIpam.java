package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/**
 * Calico's own IPAM plugin ({@code calico-ipam}, Calico {@value #VERSION}) run against the test bed's API server as
 * a CNI runtime runs it: one process per ADD/DEL, CNI_* environment, netconf on stdin, Kubernetes datastore.
 * Provisioned by scripts/provision-calico-ipam.sh into {@code $KUBE_API_TEST_DIR/calico/} (default
 * {@code ~/.kubeapitest}). Installs Calico's real crd.projectcalico.org/v1 CRDs (they replace the test bed's own
 * IPReservation CRD of that group), ClusterInformation {@code default}, and the pools a test asks for.
 *
 * <p>Missing binaries fail the test in CI (env {@code CI=true} or {@code -Dcapo.it.requireCalicoIpam=true}, which
 * .ci/run sets) and skip it elsewhere.
 */
public final class CalicoIpam {

    public static final String VERSION = "3.31.0";
    public static final String NETWORK = "k8s-pod-network";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);
    private static boolean installed;

    private final Path home;
    private final Path workDir;
    private final Path kubeconfig;

    private CalicoIpam(Path home, Path workDir, Path kubeconfig) {
        this.home = home;
        this.workDir = workDir;
        this.kubeconfig = kubeconfig;
    }

    /** calico-ipam on the fixture's API server, with Calico's CRDs installed; fails or skips without binaries. */
    public static CalicoIpam start(KubeApiServerFixture k8s, Path workDir) throws IOException {
        Path home = requireBinaries();
        Files.createDirectories(workDir);
        Path kubeconfig = Files.writeString(workDir.resolve("kubeconfig"), k8s.kubeConfigYaml());
        installCrds(k8s.client(), home.resolve("crds"));
        return new CalicoIpam(home, workDir, kubeconfig);
    }

    /** Where the provisioning script puts calico-ipam, whether or not it is there. */
    public static Path home() {
        String root = System.getenv("KUBE_API_TEST_DIR");
        if (root == null || root.isBlank()) {
            root = System.getProperty("user.home") + File.separator + ".kubeapitest";
        }
        String arch = System.getProperty("os.arch").matches("aarch64|arm64") ? "arm64" : "amd64";
        return Path.of(root, "calico", VERSION + "-linux-" + arch);
    }

    static Path requireBinaries() {
        Path home = home();
        if (Files.isExecutable(home.resolve("calico-ipam")) && Files.isDirectory(home.resolve("crds"))) {
            return home;
        }
        String message = "calico-ipam " + VERSION + " not found in " + home + ": run scripts/provision-calico-ipam.sh";
        boolean required = "true".equalsIgnoreCase(System.getenv("CI"))
                || Boolean.getBoolean("capo.it.requireCalicoIpam");
        if (required) {
            throw new IllegalStateException(message + " (required: CI=true or -Dcapo.it.requireCalicoIpam=true)");
        }
        Assumptions.abort(message);
        return home;
    }

    private static synchronized void installCrds(KubernetesClient client, Path crds) throws IOException {
        if (installed) {
            return;
        }
        List<String> names = new ArrayList<>();
        try (Stream<Path> files = Files.list(crds)) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith("crd.projectcalico.org_"))
                    .sorted().toList()) {
                try (InputStream in = Files.newInputStream(file)) {
                    CustomResourceDefinition crd = client.getKubernetesSerialization()
                            .unmarshal(in, CustomResourceDefinition.class);
                    crd.getMetadata().setResourceVersion(null);
                    client.apiextensions().v1().customResourceDefinitions().resource(crd)
                            .fieldManager("calico-it").forceConflicts().serverSideApply();
                    names.add(crd.getMetadata().getName());
                }
            }
        }
        for (String name : names) {
            await().atMost(Duration.ofSeconds(60)).until(() -> established(client, name));
        }
        // calico-ipam refuses to assign until the datastore is marked ready
        GenericKubernetesResource info = new GenericKubernetesResourceBuilder()
                .withApiVersion("crd.projectcalico.org/v1").withKind("ClusterInformation")
                .withNewMetadata().withName("default").endMetadata()
                .addToAdditionalProperties("spec", Map.of("datastoreReady", true, "calicoVersion", "v" + VERSION,
                        "clusterType", "k8s,kdd"))
                .build();
        client.genericKubernetesResources(context("ClusterInformation", "clusterinformations")).resource(info)
                .fieldManager("calico-it").forceConflicts().serverSideApply();
        installed = true;
    }

    private static boolean established(KubernetesClient client, String name) {
        var crd = client.apiextensions().v1().customResourceDefinitions().withName(name).get();
        return crd != null && crd.getStatus() != null && crd.getStatus().getConditions() != null
                && crd.getStatus().getConditions().stream()
                .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    public static ResourceDefinitionContext context(String kind, String plural) {
        return new ResourceDefinitionContext.Builder().withGroup("crd.projectcalico.org").withVersion("v1")
                .withKind(kind).withPlural(plural).withNamespaced(false).build();
    }

    /** An IPPool for workloads (allowedUses must be explicit: calico-ipam filters on it). */
    public static void pool(KubernetesClient client, String name, String cidr, int blockSize) {
        GenericKubernetesResource pool = new GenericKubernetesResourceBuilder()
                .withApiVersion("crd.projectcalico.org/v1").withKind("IPPool")
                .withNewMetadata().withName(name).endMetadata()
                .addToAdditionalProperties("spec", Map.of("cidr", cidr, "blockSize", blockSize, "ipipMode", "Never",
                        "vxlanMode", "Never", "natOutgoing", false, "nodeSelector", "all()",
                        "allowedUses", List.of("Workload", "Tunnel")))
                .build();
        client.genericKubernetesResources(context("IPPool", "ippools")).resource(pool)
                .fieldManager("calico-it").forceConflicts().serverSideApply();
    }

    /** Removes a pool and every IPAM object Calico made in it (blocks, affinities, handles of its nodes). */
    public static void deletePool(KubernetesClient client, String name, List<String> nodes) {
        client.genericKubernetesResources(context("IPPool", "ippools")).withName(name).delete();
        for (GenericKubernetesResource block : client.genericKubernetesResources(context("IPAMBlock", "ipamblocks"))
                .list().getItems()) {
            if (nodes.contains(affinityHost(block))) {
                client.genericKubernetesResources(context("IPAMBlock", "ipamblocks")).resource(block).delete();
            }
        }
        for (GenericKubernetesResource affinity : client.genericKubernetesResources(
                context("BlockAffinity", "blockaffinities")).list().getItems()) {
            Object spec = affinity.getAdditionalProperties().get("spec");
            if (spec instanceof Map<?, ?> map && nodes.contains(String.valueOf(map.get("node")))) {
                client.genericKubernetesResources(context("BlockAffinity", "blockaffinities")).resource(affinity)
                        .delete();
            }
        }
    }

    /** The node an IPAM block is affine to ({@code spec.affinity: host:<node>}), null when none. */
    public static String affinityHost(GenericKubernetesResource block) {
        Object spec = block.getAdditionalProperties().get("spec");
        if (spec instanceof Map<?, ?> map && map.get("affinity") instanceof String affinity
                && affinity.startsWith("host:")) {
            return affinity.substring("host:".length());
        }
        return null;
    }

    /** How many IPAM blocks each node is affine to. */
    public static Map<String, Long> blocksPerNode(KubernetesClient client) {
        return client.genericKubernetesResources(context("IPAMBlock", "ipamblocks")).list().getItems().stream()
                .map(CalicoIpam::affinityHost).filter(java.util.Objects::nonNull)
                .collect(java.util.stream.Collectors.groupingBy(h -> h, java.util.TreeMap::new,
                        java.util.stream.Collectors.counting()));
    }

    /** A pod sandbox as the CNI runtime names it: the container ID keys Calico's IPAM handle. */
    public record Sandbox(String node, String namespace, String pod, String containerId) {
    }

    /** CNI ADD: the addresses calico-ipam assigned (without prefix length), IPv4 first. */
    public List<String> add(Sandbox sandbox, List<String> ipv4Pools, List<String> ipv6Pools) {
        JsonNode result = call("ADD", sandbox, ipv4Pools, ipv6Pools);
        List<String> ips = new ArrayList<>();
        for (JsonNode ip : result.path("ips")) {
            String address = ip.path("address").asText();
            ips.add(address.substring(0, address.indexOf('/')));
        }
        if (ips.isEmpty()) {
            throw new IllegalStateException("calico-ipam ADD for " + sandbox + " returned no address: " + result);
        }
        ips.sort((a, b) -> Boolean.compare(a.contains(":"), b.contains(":")));
        return ips;
    }

    /** CNI DEL: releases what the sandbox's handle holds (nothing is fine, as for a real runtime). */
    public void del(Sandbox sandbox, List<String> ipv4Pools, List<String> ipv6Pools) {
        call("DEL", sandbox, ipv4Pools, ipv6Pools);
    }

    private JsonNode call(String command, Sandbox sandbox, List<String> ipv4Pools, List<String> ipv6Pools) {
        ObjectNode conf = JSON.createObjectNode();
        conf.put("cniVersion", "0.3.1").put("name", NETWORK).put("type", "calico")
                .put("datastore_type", "kubernetes").put("nodename", sandbox.node())
                .put("ipam_lock_file", workDir.resolve("ipam-" + sandbox.node() + ".lock").toString())
                .put("log_file_path", workDir.resolve("cni.log").toString())
                .put("log_level", "warning");
        conf.putObject("kubernetes").put("kubeconfig", kubeconfig.toString());
        ObjectNode ipam = conf.putObject("ipam");
        ipam.put("type", "calico-ipam").put("assign_ipv4", String.valueOf(!ipv4Pools.isEmpty()))
                .put("assign_ipv6", String.valueOf(!ipv6Pools.isEmpty()));
        ipv4Pools.forEach(ipam.putArray("ipv4_pools")::add);
        ipv6Pools.forEach(ipam.putArray("ipv6_pools")::add);

        ProcessBuilder builder = new ProcessBuilder(home.resolve("calico-ipam").toString());
        Map<String, String> env = builder.environment();
        env.put("CNI_COMMAND", command);
        env.put("CNI_CONTAINERID", sandbox.containerId());
        env.put("CNI_NETNS", "/var/run/netns/cni-" + sandbox.containerId());
        env.put("CNI_IFNAME", "eth0");
        env.put("CNI_PATH", home.toString());
        env.put("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + sandbox.namespace() + ";K8S_POD_NAME="
                + sandbox.pod() + ";K8S_POD_INFRA_CONTAINER_ID=" + sandbox.containerId());
        Path stderr = null;
        try {
            // stderr to a file: a full pipe there would block the plugin while we read its stdout
            stderr = Files.createTempFile(workDir, "cni-" + command.toLowerCase(java.util.Locale.ROOT), ".err");
            builder.redirectError(stderr.toFile());
            Process process = builder.start();
            try (var stdin = process.getOutputStream()) {
                stdin.write(JSON.writeValueAsBytes(conf));
            }
            byte[] out = process.getInputStream().readAllBytes();
            if (!process.waitFor(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("calico-ipam " + command + " timed out for " + sandbox);
            }
            String stdout = new String(out, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new IllegalStateException("calico-ipam " + command + " for " + sandbox + " failed (exit "
                        + process.exitValue() + "): " + stdout + Files.readString(stderr));
            }
            return stdout.isBlank() ? JSON.createObjectNode() : JSON.readTree(stdout);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run calico-ipam " + command + " for " + sandbox, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            if (stderr != null) {
                try {
                    Files.deleteIfExists(stderr);
                } catch (IOException ignored) {
                    // a temp dir's leftover
                }
            }
        }
    }
}
