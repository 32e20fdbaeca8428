package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static io.capo.it.ItSupport.metric;
import static io.capo.it.ItSupport.nextIpv4;
import static io.capo.it.ItSupport.statefulPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three replicas in this JVM (harness: leaseDuration 3s, renewDeadline 2s, retryPeriod 500ms): the leader stops,
 * another takes over within lease duration + retry period, nothing parked is lost and nothing is released twice;
 * then the next leader is cut off from the API server (no Lease release, as in a crash) and is replaced once its
 * Lease expired. Then every replica restarts: the state in the API server is intact and repeated admissions add
 * no duplicate.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LeaderFailoverIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration LEASE_DURATION = Duration.ofSeconds(3);
    private static final Duration RETRY_PERIOD = Duration.ofMillis(500);

    static ItEnvironment env;
    static KubernetesClient client;
    static String ns;
    static final List<CapoInstance> replicas = new ArrayList<>();
    /** Each replica reaches the API server through a proxy of its own, so that one can be cut off alone. */
    static final Map<CapoInstance, TcpProxy> links = new IdentityHashMap<>();

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        env = new ItEnvironment("failover", dir);
        client = env.client();
        ns = env.namespace("zookeeper", true);
        for (String id : List.of("capo-0", "capo-1", "capo-2")) {
            replicas.add(startReplica(id));
        }
    }

    static CapoInstance startReplica(String id) throws Exception {
        URI api = env.k8s().uri();
        TcpProxy link = new TcpProxy(api.getHost(), api.getPort());
        CapoInstance capo = env.startCapo(env.k8s().newClient(link.url()),
                b -> b.identity(id).setting("ipReserveTime", "6s"));
        links.put(capo, link);
        return capo;
    }

    static void stopReplica(CapoInstance capo) throws Exception {
        replicas.remove(capo);
        env.stopCapo(capo);
        links.remove(capo).close();
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
        links.values().forEach(TcpProxy::close);
    }

    static double releases(List<CapoInstance> instances) {
        return instances.stream().mapToDouble(c -> metric(c, "capo_releases_total")).sum();
    }

    @Test
    @Order(1)
    void anotherReplicaTakesOverWithoutLosingOrDoubleReleasingAnything() throws Exception {
        CapoInstance leader = env.awaitLeader(replicas, WAIT);
        CapoInstance webhook = replicas.stream().filter(c -> c != leader).findFirst().orElseThrow();
        env.registerWebhook(webhook, ns);
        assertThat(replicas.stream().filter(c -> metric(c, "leader_election_master_status") == 1.0)).hasSize(1);

        List<String> cidrs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String ip = nextIpv4();
            statefulPod(client, ns, "before-" + i, "node-1", ip);
            client.pods().inNamespace(ns).withName("before-" + i).withGracePeriod(0).delete();
            cidrs.add(ip + "/32");
        }
        await().atMost(WAIT).until(() -> cidrs.stream().allMatch(env.reservations()::gone));
        double releasedByOldLeader = metric(leader, "capo_releases_total");

        long stopped = System.nanoTime();
        stopReplica(leader);
        // deletions go on while the leadership moves
        for (int i = 0; i < 2; i++) {
            String ip = nextIpv4();
            statefulPod(client, ns, "during-" + i, "node-1", ip);
            client.pods().inNamespace(ns).withName("during-" + i).withGracePeriod(0).delete();
            cidrs.add(ip + "/32");
        }
        CapoInstance next = env.awaitLeader(replicas, WAIT);
        Duration takeover = Duration.ofNanos(System.nanoTime() - stopped);
        System.out.printf("leader %s stopped, %s took over after %d ms%n", leader.identity(), next.identity(),
                takeover.toMillis());
        assertThat(takeover).isLessThanOrEqualTo(LEASE_DURATION.plus(RETRY_PERIOD).plusSeconds(1));
        assertThat(replicas.stream().filter(c -> metric(c, "leader_election_master_status") == 1.0)).hasSize(1);

        // every address parked before or during the failover is released once, by TTL, by the new leader
        await().atMost(WAIT).until(() -> cidrs.stream().noneMatch(env.reservations()::has));
        double total = releasedByOldLeader + releases(replicas);
        assertThat(total).as("releases counted by all leaders").isEqualTo(cidrs.size());
        assertThat(metric(next, "capo_releases_total", "reason=\"ttl\"") + releasedByOldLeader)
                .isEqualTo(cidrs.size());
        replicas.stream().filter(c -> c != next)
                .forEach(c -> assertThat(metric(c, "capo_releases_total")).isZero());
    }

    @Test
    @Order(2)
    void aLeaderCutOffFromTheApiServerIsReplacedWhenItsLeaseExpires() throws Exception {
        CapoInstance leader = env.awaitLeader(replicas, WAIT);
        CapoInstance other = replicas.stream().filter(c -> c != leader).findFirst().orElseThrow();
        env.registerWebhook(other, ns);
        List<String> cidrs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String ip = nextIpv4();
            statefulPod(client, ns, "crash-" + i, "node-1", ip);
            client.pods().inNamespace(ns).withName("crash-" + i).withGracePeriod(0).delete();
            cidrs.add(ip + "/32");
        }
        await().atMost(WAIT).until(() -> cidrs.stream().allMatch(env.reservations()::gone));
        double releasedBefore = releases(replicas);

        // as a crash or a network partition: the Lease is not released, it has to expire
        long cut = System.nanoTime();
        links.get(leader).cut();
        CapoInstance next = env.awaitLeader(List.of(other), WAIT);
        Duration takeover = Duration.ofNanos(System.nanoTime() - cut);
        System.out.printf("leader %s cut off, %s took over after %d ms%n", leader.identity(), next.identity(),
                takeover.toMillis());
        assertThat(takeover).isLessThanOrEqualTo(LEASE_DURATION.plus(RETRY_PERIOD).plusSeconds(2));
        assertThat(metric(leader, "leader_election_master_status")).as("the cut-off replica stepped down")
                .isZero();

        await().atMost(WAIT).until(() -> cidrs.stream().noneMatch(env.reservations()::has));
        assertThat(releases(replicas) - releasedBefore).as("released once").isEqualTo(cidrs.size());
        stopReplica(leader);
    }

    @Test
    @Order(3)
    void restartKeepsTheStateAndAddsNoDuplicate() throws Exception {
        List<String> cidrs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String ip = nextIpv4();
            statefulPod(client, ns, "kept-" + i, "node-1", ip);
            client.pods().inNamespace(ns).withName("kept-" + i).delete(); // graceful: stays terminating
            cidrs.add(ip + "/32");
        }
        await().atMost(WAIT).until(() -> cidrs.stream().allMatch(env.reservations()::has));
        ItSupport.StoredReservations before = env.reservations();
        env.unregisterWebhook();
        for (CapoInstance capo : List.copyOf(replicas)) {
            stopReplica(capo);
        }
        for (String id : List.of("capo-0", "capo-1", "capo-2")) {
            replicas.add(startReplica(id));
        }
        CapoInstance leader = env.awaitLeader(replicas, WAIT);
        env.registerWebhook(replicas.get(0), ns);

        // a few release cycles of the new leader later, nothing changed
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                .until(() -> env.reservations().entries().equals(before.entries()));
        assertThat(env.reservations().cidrs()).containsExactlyInAnyOrderElementsOf(before.cidrs());

        // the kubelet's final deletes reach the restarted replicas: same entries, now gone
        for (int i = 0; i < 3; i++) {
            client.pods().inNamespace(ns).withName("kept-" + i).withGracePeriod(0).delete();
        }
        await().atMost(WAIT).until(() -> cidrs.stream().allMatch(env.reservations()::gone)
                || cidrs.stream().noneMatch(env.reservations()::has));
        ItSupport.StoredReservations after = env.reservations();
        for (String cidr : cidrs) {
            if (after.has(cidr)) {
                JsonNode was = before.entry(cidr);
                JsonNode now = after.entry(cidr);
                assertThat(now.path("uid").asText()).isEqualTo(was.path("uid").asText());
                assertThat(now.path("reservedAt").asText()).isEqualTo(was.path("reservedAt").asText());
                assertThat(now.path("reason").asText()).isEqualTo("delete");
            }
        }
        assertThat(after.cidrs()).doesNotHaveDuplicates();
        assertThat(metric(leader, "capo_reservations_total")).as("nothing parked anew").isZero();
        assertThat(replicas.stream().mapToDouble(c -> metric(c, "capo_reservations_total")).sum()).isZero();
    }
}
