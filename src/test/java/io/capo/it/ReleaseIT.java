package io.capo.it;

import io.capo.testing.CapoInstance;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.capo.it.ItSupport.metric;
import static io.capo.it.ItSupport.nextIpv4;
import static io.capo.it.ItSupport.podExists;
import static io.capo.it.ItSupport.statefulPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Release by time to live and by maximum count (oldest first), done by the elected leader only, two replicas. */
class ReleaseIT {

    private static final Duration WAIT = Duration.ofSeconds(20);

    static ItEnvironment env;
    static KubernetesClient client;
    static CapoInstance first;
    static CapoInstance second;
    static CapoInstance leader;
    static CapoInstance follower;
    static String ns;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        env = new ItEnvironment("release", dir);
        client = env.client();
        ns = env.namespace("redis", true);
        first = env.startCapo(b -> b.identity("release-a").setting("ipReserveTime", "3s")
                .setting("ipReserveMaxCount", "2"));
        second = env.startCapo(b -> b.identity("release-b").setting("ipReserveTime", "3s")
                .setting("ipReserveMaxCount", "2"));
        leader = env.awaitLeader(List.of(first, second), WAIT);
        follower = leader == first ? second : first;
        // the webhook goes to the follower: every replica serves it, only the leader releases
        env.registerWebhook(follower, ns);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @AfterEach
    void leaderDidNotChange() {
        assertThat(env.leaseHolder()).isEqualTo(leader.identity());
        assertThat(metric(follower, "capo_releases_total")).as("the follower never releases").isZero();
        assertThat(metric(follower, "leader_election_master_status")).isZero();
    }

    static double released(CapoInstance capo, String reason) {
        return metric(capo, "capo_releases_total", "reason=\"" + reason + "\"");
    }

    @Test
    void releasedWhenTheTimeToLiveHasPassedSinceThePodWasGone() {
        String ip = nextIpv4();
        String cidr = ip + "/32";
        statefulPod(client, ns, "ttl-0", "node-1", ip);
        double ttl = released(leader, "ttl");

        client.pods().inNamespace(ns).withName("ttl-0").withGracePeriod(0).delete();

        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> env.reservations().gone(cidr));
        long goneAt = java.time.Instant.parse(env.reservations().entry(cidr).path("goneAt").asText()).toEpochMilli();
        await().atMost(WAIT).until(() -> !env.reservations().has(cidr));
        long releasedAfter = System.currentTimeMillis() - goneAt;
        assertThat(releasedAfter).as("ms from gone to released").isBetween(2_500L, 10_000L);
        assertThat(released(leader, "ttl")).isEqualTo(ttl + 1);
    }

    @Test
    void releasedOldestFirstAboveTheMaximumCount() {
        double maxCount = released(leader, "max-count");
        double evictions = metric(leader, "ip_reserve_evictions_count");
        List<String> cidrs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String ip = nextIpv4();
            String name = "max-" + i;
            statefulPod(client, ns, name, "node-1", ip);
            // graceful: the pods stay terminating (no kubelet), so their TTL never starts; only the count applies
            client.pods().inNamespace(ns).withName(name).delete();
            String cidr = ip + "/32";
            await().atMost(WAIT).until(() -> env.reservations().has(cidr));
            cidrs.add(cidr);
            names.add(name);
        }

        await().atMost(WAIT).until(() -> !env.reservations().has(cidrs.get(0)));
        ItSupport.StoredReservations stored = env.reservations();
        assertThat(stored.has(cidrs.get(1))).isTrue();
        assertThat(stored.has(cidrs.get(2))).isTrue();
        assertThat(stored.entries()).hasSize(2);
        assertThat(podExists(client, ns, names.get(0))).as("still terminating").isTrue();
        assertThat(released(leader, "max-count")).isEqualTo(maxCount + 1);
        assertThat(metric(leader, "ip_reserve_evictions_count")).isEqualTo(evictions + 1);
        assertThat(metric(follower, "ip_reserve_evictions_count")).isZero();

        // the kubelet's final deletes: the TTL of the other two starts, and they go as well
        names.forEach(n -> client.pods().inNamespace(ns).withName(n).withGracePeriod(0).delete());
        await().atMost(WAIT).until(() -> env.reservations().entries().isEmpty());
        assertThat(released(leader, "ttl")).isGreaterThanOrEqualTo(2);
    }
}
