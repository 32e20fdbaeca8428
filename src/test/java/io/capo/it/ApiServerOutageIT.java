package io.capo.it;

import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.capo.it.ItSupport.metric;
import static io.capo.it.ItSupport.nextIpv4;
import static io.capo.it.ItSupport.podExists;
import static io.capo.it.ItSupport.statefulPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * The API server becomes unreachable for Capo for 20 s (a TCP proxy in front of it closes and refuses every
 * connection) while Capo leads and serves webhook calls; the API server itself still reaches the webhook.
 * Failure mode deny: a deletion whose address cannot be parked is refused within the webhook budget, deletions
 * that need no write go through; failure mode allow (webhook moved to the other replica): the pod goes and its
 * address is parked once the API server is back. Afterwards a leader exists again and no reservation is lost.
 */
class ApiServerOutageIT {

    private static final Duration OUTAGE = Duration.ofSeconds(20);
    private static final Duration WAIT = Duration.ofSeconds(30);

    static ItEnvironment env;
    static KubernetesClient client;
    static TcpProxy proxy;
    static CapoInstance first;
    static CapoInstance second;
    static String ns;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        env = new ItEnvironment("outage", dir);
        client = env.client();
        ns = env.namespace("cassandra", true);
        URI api = env.k8s().uri();
        proxy = new TcpProxy(api.getHost(), api.getPort());
        first = env.startCapo(env.k8s().newClient(proxy.url()), b -> b.identity("outage-a")
                .setting("ipReserveTime", "1h"));
        second = env.startCapo(env.k8s().newClient(proxy.url()), b -> b.identity("outage-b")
                .setting("ipReserveTime", "1h").setting("failureMode", "allow"));
        env.registerWebhook(first, ns);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void leadershipAndReservationsSurviveTwentySecondsWithoutTheApiServer() {
        List<CapoInstance> replicas = List.of(first, second);
        env.awaitLeader(replicas, WAIT);
        // parked before: one pod gone, one still terminating
        String goneIp = nextIpv4();
        statefulPod(client, ns, "gone-0", "node-1", goneIp);
        client.pods().inNamespace(ns).withName("gone-0").withGracePeriod(0).delete();
        String terminatingIp = nextIpv4();
        statefulPod(client, ns, "terminating-0", "node-1", terminatingIp);
        client.pods().inNamespace(ns).withName("terminating-0").delete();
        String refusedIp = nextIpv4();
        Pod refusedPod = statefulPod(client, ns, "refused-0", "node-1", refusedIp);
        String allowedIp = nextIpv4();
        Pod allowedPod = statefulPod(client, ns, "allowed-0", "node-1", allowedIp);
        ItSupport.runningPod(client, ns, "web-0", "node-1", Map.of("app", "web"), nextIpv4());
        await().atMost(WAIT).until(() -> env.reservations().gone(goneIp + "/32")
                && env.reservations().has(terminatingIp + "/32"));
        ItSupport.StoredReservations before = env.reservations();
        double denied = metric(first, "capo_webhook_requests_total", "result=\"denied\"");

        long cutAt = System.nanoTime();
        proxy.cut();

        // nobody may act as leader on a Lease it cannot renew (renewDeadline 2s)
        await().atMost(Duration.ofSeconds(8)).until(() ->
                replicas.stream().allMatch(c -> metric(c, "leader_election_master_status") == 0.0));
        try (KubernetesClient once = env.k8s().newClientWithoutRetries()) {
            // a selected pod: its address cannot be parked, so the deletion is refused (failure mode deny)
            long start = System.nanoTime();
            KubernetesClientException refused = catchThrowableOfType(KubernetesClientException.class,
                    () -> once.pods().inNamespace(ns).withName("refused-0").withGracePeriod(0).delete());
            long answeredMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(refused).as("deletion refused").isNotNull();
            assertThat(refused.getCode()).isEqualTo(429);
            assertThat(refused.getMessage()).contains("capo could not park IP " + refusedIp + "/32");
            // the default budget: the webhook's timeoutSeconds (10) less 2s; Capo answers, not the API server's timeout
            assertThat(answeredMs).as("answered at the 8s webhook budget, before the 10s timeout")
                    .isBetween(8_000L, 9_999L);
            assertThat(podExists(client, ns, "refused-0")).isTrue();
            // nothing to write: a pod Capo does not select, and the final delete of a pod already parked
            once.pods().inNamespace(ns).withName("web-0").withGracePeriod(0).delete();
            once.pods().inNamespace(ns).withName("terminating-0").withGracePeriod(0).delete();
            assertThat(podExists(client, ns, "terminating-0")).isFalse();
            assertThat(metric(first, "capo_webhook_requests_total", "result=\"denied\"")).isGreaterThan(denied);

            // failure mode allow (the second replica): the pod goes, the address is parked when the API server is back
            env.registerWebhook(second, ns);
            start = System.nanoTime();
            once.pods().inNamespace(ns).withName("allowed-0").withGracePeriod(0).delete();
            assertThat((System.nanoTime() - start) / 1_000_000).as("answered before the 10s timeout")
                    .isLessThan(10_000);
            assertThat(podExists(client, ns, "allowed-0")).isFalse();
            assertThat(metric(second, "capo_webhook_requests_total", "result=\"failed-open\"")).isPositive();
        }
        await().atMost(OUTAGE.plusSeconds(10)).until(() -> System.nanoTime() - cutAt >= OUTAGE.toNanos());
        assertThat(replicas.stream().allMatch(c -> metric(c, "leader_election_master_status") == 0.0)).isTrue();

        proxy.restore();

        CapoInstance leader = env.awaitLeader(replicas, WAIT);
        System.out.printf("after the outage %s leads again after %d ms%n", leader.identity(),
                (System.nanoTime() - cutAt) / 1_000_000 - OUTAGE.toMillis());
        // nothing lost; the pod that went during the outage is marked gone once Capo sees it again
        await().atMost(WAIT).until(() -> env.reservations().gone(terminatingIp + "/32"));
        ItSupport.StoredReservations after = env.reservations();
        for (String cidr : before.entries().keySet()) {
            assertThat(after.has(cidr)).as(cidr).isTrue();
            assertThat(after.entry(cidr).path("reservedAt")).isEqualTo(before.entry(cidr).path("reservedAt"));
        }
        // the deletion allowed during the outage: its address is parked now
        await().atMost(WAIT).until(() -> env.reservations().gone(allowedIp + "/32"));
        assertThat(env.reservations().entry(allowedIp + "/32").path("uid").asText())
                .isEqualTo(allowedPod.getMetadata().getUid());
        // the refused deletion is retried by its caller and goes through now
        client.pods().inNamespace(ns).withName("refused-0").withGracePeriod(0).delete();
        await().atMost(WAIT).until(() -> env.reservations().gone(refusedIp + "/32"));
        assertThat(env.reservations().entry(refusedIp + "/32").path("uid").asText())
                .isEqualTo(refusedPod.getMetadata().getUid());
        assertThat(env.reservations().cidrs()).doesNotHaveDuplicates();
    }
}
