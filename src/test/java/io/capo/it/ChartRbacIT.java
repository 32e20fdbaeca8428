package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.capo.deploy.ChartRenderer;
import io.capo.calico.CalicoApi;
import io.capo.calico.CalicoReservationStore;
import io.capo.leader.LeaseClusterService;
import io.capo.reservation.ReservationRequest;
import io.capo.testing.CapoInstance;
import io.capo.testing.LogCapture;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The chart's RBAC, applied for real, is enough for Capo and no more: a Capo replica running as the chart's
 * ServiceAccount (impersonated) becomes ready, leads and keeps renewing its Lease, and parks and releases
 * addresses, while updates of IPReservations and Leases that are not Capo's are forbidden.
 */
class ChartRbacIT {

    static ItEnvironment env;
    static KubernetesClient admin;
    static String namespace;
    static final List<GenericKubernetesResource> applied = new ArrayList<>();
    static KubernetesClient asCapo;

    @BeforeAll
    static void start(@TempDir Path dir) {
        env = new ItEnvironment("rbac", dir);
        admin = env.client();
        namespace = env.namespace("capo-rbac", false);
        String release = ItSupport.unique("capo-rbac");
        String rendered = ChartRenderer.render(null, release, namespace, Map.of(
                "config.reservationObjectName", env.objectName(), "config.reservationObjects", "2",
                "config.leaderElection.resourceName", env.leaseName(), "flowControl.enabled", "true"));
        for (JsonNode document : ChartRenderer.documents(rendered)) {
            String kind = document.path("kind").asText();
            if (List.of("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "PriorityLevelConfiguration",
                    "FlowSchema").contains(kind)) {
                GenericKubernetesResource object = admin.getKubernetesSerialization()
                        .convertValue(document, GenericKubernetesResource.class);
                applied.add(admin.resource(object).create());
            }
        }
        assertThat(applied).hasSize(6);
        String serviceAccount = applied.stream().filter(o -> o.getKind().equals("RoleBinding")).findFirst()
                .map(o -> ((Map<?, ?>) ((List<?>) o.getAdditionalProperties().get("subjects")).get(0)).get("name"))
                .orElseThrow().toString();
        Config config = new ConfigBuilder(env.k8s().config()).withNamespace(namespace)
                .withImpersonateUsername("system:serviceaccount:" + namespace + ":" + serviceAccount)
                .withImpersonateGroups("system:serviceaccounts", "system:serviceaccounts:" + namespace,
                        "system:authenticated").build();
        asCapo = new KubernetesClientBuilder().withConfig(config).build();
    }

    @AfterAll
    static void stop() {
        if (asCapo != null) {
            asCapo.close();
        }
        for (GenericKubernetesResource object : applied) {
            admin.resource(object).delete();
        }
        if (env != null) {
            env.close();
        }
    }

    static GenericKubernetesResource reservationObject(String name) {
        return new GenericKubernetesResourceBuilder().withApiVersion(CalicoApi.V3).withKind("IPReservation")
                .withNewMetadata().withName(name).endMetadata()
                .addToAdditionalProperties("spec", Map.of("reservedCIDRs", List.of("10.99.0.1/32"))).build();
    }

    @Test
    void whatTheInformersListAndWatchIsGranted() {
        assertThat(asCapo.pods().inAnyNamespace().list().getItems()).isNotNull();
        assertThat(asCapo.namespaces().list().getItems()).isNotEmpty();
        assertThat(asCapo.nodes().list().getItems()).isNotNull();
        assertThat(asCapo.genericKubernetesResources(new CalicoApi(CalicoApi.V3).context()).list().getItems())
                .isNotNull();
    }

    @Test
    void capoRunsAsTheChartsServiceAccountLeadsAndParks() throws Exception {
        try (LogCapture log = new LogCapture()) {
            CapoInstance capo = env.startCapo(new KubernetesClientBuilder().withConfig(asCapo.getConfiguration())
                    .build(), b -> b.setting("leaderElection.resourceNamespace", namespace)
                    .setting("reservationObjects", "2"));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> capo.context().hasService(LeaseClusterService.class).isLeader());
            // renewals (JSON merge patches) are allowed: the Lease's renewTime moves on twice while Capo leads
            java.util.function.Supplier<String> renewTime = () -> String.valueOf(admin.leases().inNamespace(namespace)
                    .withName(env.leaseName()).get().getSpec().getRenewTime());
            String first = renewTime.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> !renewTime.get().equals(first));
            String second = renewTime.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> !renewTime.get().equals(second));
            assertThat(capo.context().hasService(LeaseClusterService.class).isLeader()).isTrue();

            CalicoReservationStore store = capo.bean("reservationStore", CalicoReservationStore.class);
            List<String> cidrs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                cidrs.add(ItSupport.nextIpv4() + "/32");
            }
            store.reserve(new ReservationRequest("kafka", "kafka-0", "uid-rbac", "n", cidrs, "delete",
                    Instant.now(), Instant.now(), null)).get(20, TimeUnit.SECONDS);
            // and once more, which updates the objects Capo created
            store.reserve(new ReservationRequest("kafka", "kafka-1", "uid-rbac-1", "n",
                    List.of(ItSupport.nextIpv4() + "/32", ItSupport.nextIpv4() + "/32"), "delete", Instant.now(),
                    Instant.now(), null)).get(20, TimeUnit.SECONDS);
            assertThat(store.heldCount()).isEqualTo(10);
            assertThat(log.lines()).noneMatch(line -> line.contains("Forbidden") || line.contains("forbidden"));
        }
    }

    /**
     * With flowControl.enabled, the API server puts the requests of the chart's ServiceAccount at the chart's own
     * priority level: its answers name the chart's FlowSchema and PriorityLevelConfiguration (APF's response
     * headers), for Lease and IPReservation requests alike, while requests of another ServiceAccount do not.
     */
    @Test
    void capoRequestsGoToTheChartsPriorityLevel() throws Exception {
        GenericKubernetesResource flowSchema = applied.stream().filter(o -> o.getKind().equals("FlowSchema"))
                .findFirst().orElseThrow();
        GenericKubernetesResource level = applied.stream()
                .filter(o -> o.getKind().equals("PriorityLevelConfiguration")).findFirst().orElseThrow();
        String lease = "/apis/coordination.k8s.io/v1/namespaces/" + namespace + "/leases/" + env.leaseName();
        String reservation = "/apis/projectcalico.org/v3/ipreservations/" + env.objectName();
        // the API server picks a new FlowSchema up within a few seconds
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                .until(() -> flowSchemaOf(asCapo, lease).equals(flowSchema.getMetadata().getUid()));
        assertThat(flowSchemaOf(asCapo, reservation)).isEqualTo(flowSchema.getMetadata().getUid());
        assertThat(priorityLevelOf(asCapo, reservation)).isEqualTo(level.getMetadata().getUid());

        Config other = new ConfigBuilder(env.k8s().config()).withImpersonateUsername(
                "system:serviceaccount:" + namespace + ":someone-else").withImpersonateGroups("system:serviceaccounts",
                "system:serviceaccounts:" + namespace, "system:authenticated").build();
        try (KubernetesClient someoneElse = new KubernetesClientBuilder().withConfig(other).build()) {
            assertThat(flowSchemaOf(someoneElse, lease)).isNotEmpty().isNotEqualTo(flowSchema.getMetadata().getUid());
        }
    }

    private static String flowSchemaOf(KubernetesClient client, String path) throws Exception {
        return header(client, path, "X-Kubernetes-PF-FlowSchema-UID");
    }

    private static String priorityLevelOf(KubernetesClient client, String path) throws Exception {
        return header(client, path, "X-Kubernetes-PF-PriorityLevel-UID");
    }

    /** A GET of path (its status does not matter: APF classifies a request before it is authorized). */
    private static String header(KubernetesClient client, String path, String name) throws Exception {
        HttpClient http = client.getHttpClient();
        String base = client.getConfiguration().getMasterUrl().replaceAll("/$", "");
        HttpResponse<String> response = http.sendAsync(http.newHttpRequestBuilder().uri(base + path).build(),
                String.class).get(10, TimeUnit.SECONDS);
        return String.join(",", response.headers(name));
    }

    @Test
    void updatesOfIpReservationsThatAreNotCapossAreForbidden() {
        var ipReservations = asCapo.genericKubernetesResources(new CalicoApi(CalicoApi.V3).context());
        String foreign = ItSupport.unique("someone-elses");
        admin.genericKubernetesResources(new CalicoApi(CalicoApi.V3).context()).resource(reservationObject(foreign))
                .create();
        try {
            assertThat(ipReservations.list().getItems()).extracting(o -> o.getMetadata().getName()).contains(foreign);
            GenericKubernetesResource theirs = ipReservations.withName(foreign).get();
            assertThat(forbidden(() -> ipReservations.resource(theirs).update())).isTrue();
            assertThat(forbidden(() -> ipReservations.withName(foreign)
                    .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}")))
                    .isTrue();
            assertThat(forbidden(() -> ipReservations.withName(foreign).delete())).isTrue();
        } finally {
            admin.genericKubernetesResources(new CalicoApi(CalicoApi.V3).context()).withName(foreign).delete();
        }
    }

    @Test
    void leasesThatAreNotCapossCannotBeReadOrChanged() {
        String foreign = ItSupport.unique("other-controller");
        Lease lease = new LeaseBuilder().withNewMetadata().withName(foreign).withNamespace(namespace).endMetadata()
                .withNewSpec().withHolderIdentity("other").endSpec().build();
        admin.leases().inNamespace(namespace).resource(lease).create();
        assertThat(forbidden(() -> asCapo.leases().inNamespace(namespace).withName(foreign).get())).isTrue();
        assertThat(forbidden(() -> asCapo.leases().inNamespace(namespace).withName(foreign)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"holderIdentity\":\"capo\"}}"))).isTrue();
        assertThat(forbidden(() -> asCapo.leases().inNamespace(namespace).list())).isTrue();
        assertThat(admin.leases().inNamespace(namespace).withName(foreign).get().getSpec().getHolderIdentity())
                .isEqualTo("other");
    }

    static boolean forbidden(Runnable call) {
        try {
            call.run();
            return false;
        } catch (KubernetesClientException e) {
            return e.getCode() == 403;
        }
    }
}
