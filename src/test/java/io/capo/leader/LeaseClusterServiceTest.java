package io.capo.leader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.cluster.CamelClusterMember;
import org.apache.camel.cluster.CamelClusterView;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class LeaseClusterServiceTest {

    private static final String NAMESPACE = "capo-system";
    private static final String LEASE = "capo-leader";
    private static final Duration LEASE_DURATION = Duration.ofSeconds(2);
    private static final Duration RENEW_DEADLINE = Duration.ofMillis(1500);
    private static final Duration RETRY_PERIOD = Duration.ofMillis(300);
    // the acquire loop retries after retryPeriod plus up to 120% jitter
    private static final Duration TAKEOVER = LEASE_DURATION.plus(RETRY_PERIOD.multipliedBy(4));

    KubernetesClient client;

    private final List<AutoCloseable> cleanup = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void tearDown() throws Exception {
        List<AutoCloseable> reversed = new ArrayList<>(cleanup);
        Collections.reverse(reversed);
        for (AutoCloseable closeable : reversed) {
            closeable.close();
        }
    }

    @Test
    void oneOfTwoBecomesLeaderAndTheLeaseNamesIt() throws Exception {
        LeaseClusterService a = started(service(client, "capo-a"));
        LeaseClusterService b = started(service(client, "capo-b"));

        await().atMost(TAKEOVER).until(() -> a.isLeader() || b.isLeader());
        LeaseClusterService leader = a.isLeader() ? a : b;
        LeaseClusterService follower = leader == a ? b : a;

        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(
                () -> leader.isLeader() && !follower.isLeader() && leader.identity().equals(holder()));

        CamelClusterView leaderView = leader.getView("capo-release");
        CamelClusterView followerView = follower.getView("capo-release");
        assertThat(leaderView.getLocalMember().isLeader()).isTrue();
        assertThat(leaderView.getLeader()).map(CamelClusterMember::getId).contains(leader.identity());
        assertThat(leader.isLeader("capo-release")).isTrue();
        assertThat(followerView.getLocalMember().isLeader()).isFalse();
        assertThat(followerView.getLeader()).hasValueSatisfying(member -> {
            assertThat(member.getId()).isEqualTo(leader.identity());
            assertThat(member.isLocal()).isFalse();
            assertThat(member.isLeader()).isTrue();
        });
        assertThat(followerView.getMembers()).extracting(CamelClusterMember::getId)
                .containsExactlyInAnyOrder(leader.identity(), follower.identity());
        assertThat(leader.lastLoopActivity()).isAfter(Instant.now().minus(RETRY_PERIOD.multipliedBy(2)));
    }

    @Test
    void stoppingTheLeaderHandsOverWithinLeaseDurationAndRetry() {
        LeaseClusterService a = started(service(client, "capo-a"));
        await().atMost(TAKEOVER).until(a::isLeader);
        LeaseClusterService b = started(service(client, "capo-b"));
        await().during(RETRY_PERIOD.multipliedBy(3)).atMost(Duration.ofSeconds(2)).until(() -> !b.isLeader());
        List<Boolean> aEvents = new CopyOnWriteArrayList<>();
        a.onLeadershipChange(aEvents::add);

        a.stop();

        assertThat(a.isLeader()).isFalse();
        assertThat(aEvents).containsExactly(true, false);
        // fabric8's release shortens the Lease to 1s; its JSON merge patch drops the null holder, so the name stays
        assertThat(client.leases().inNamespace(NAMESPACE).withName(LEASE).get().getSpec().getLeaseDurationSeconds())
                .isEqualTo(1);
        await().atMost(TAKEOVER).until(b::isLeader);
        assertThat(holder()).isEqualTo("capo-b");
    }

    @Test
    void masterRouteRunsOnlyOnTheLeader() throws Exception {
        AtomicInteger firedOnA = new AtomicInteger();
        AtomicInteger firedOnB = new AtomicInteger();
        LeaseClusterService a = service(client, "capo-a");
        LeaseClusterService b = service(client, "capo-b");
        CamelContext contextA = started(context(a, firedOnA));
        await().atMost(TAKEOVER).until(a::isLeader);
        // camel-master starts the delegate consumer one second after gaining leadership
        await().atMost(Duration.ofSeconds(3)).until(() -> firedOnA.get() >= 3);

        CamelContext contextB = started(context(b, firedOnB));
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3))
                .until(() -> firedOnB.get() == 0 && !b.isLeader());

        contextA.stop();
        int firedBeforeStop = firedOnA.get();
        await().atMost(TAKEOVER.plus(Duration.ofSeconds(2))).until(() -> firedOnB.get() >= 3);
        assertThat(firedOnA.get()).isEqualTo(firedBeforeStop);
        assertThat(contextB.isStarted()).isTrue();
    }

    @Test
    void recoversAfterAnotherHolderTakesTheLease() throws Exception {
        AtomicInteger fired = new AtomicInteger();
        LeaseClusterService a = service(client, "capo-a");
        List<Boolean> events = new CopyOnWriteArrayList<>();
        a.onLeadershipChange(events::add);
        started(context(a, fired));
        await().atMost(TAKEOVER).until(a::isLeader);
        await().atMost(Duration.ofSeconds(3)).until(() -> fired.get() >= 3);

        ZonedDateTime intruderRenewTime = ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(2);
        steal("intruder", intruderRenewTime);

        await().atMost(RETRY_PERIOD.multipliedBy(4)).until(() -> !a.isLeader());
        CamelClusterView view = a.getView("capo-release");
        assertThat(view.getLeader()).map(CamelClusterMember::getId).contains("intruder");
        // the consumer is stopped on the leadership event; at most an exchange in flight completes
        int firedWhenLost = fired.get();
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2))
                .until(() -> fired.get() <= firedWhenLost + 1 && !a.isLeader());

        // the intruder never renews: its Lease expires at renewTime + 2s, then the loop takes it back
        await().atMost(Duration.ofSeconds(6)).until(a::isLeader);
        assertThat(Instant.now()).isAfter(intruderRenewTime.plus(LEASE_DURATION).toInstant());
        assertThat(holder()).isEqualTo("capo-a");
        int firedWhenRegained = fired.get();
        await().atMost(Duration.ofSeconds(3)).until(() -> fired.get() >= firedWhenRegained + 3);
        assertThat(events).containsExactly(false, true, false, true);
    }

    @Test
    void stopsTheRouteWhenLeadershipIsLostBeforeCamelMasterStartedIt() throws Exception {
        AtomicInteger fired = new AtomicInteger();
        LeaseClusterService a = service(client, "capo-a");
        started(context(a, fired, "master:capo-release:timer:t?period=100&delay=0"));
        await().atMost(TAKEOVER).until(a::isLeader);

        // camel-master starts its consumer 1s after the leadership event without checking leadership again
        steal("intruder", ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(10));
        await().atMost(RETRY_PERIOD.multipliedBy(3)).until(() -> !a.isLeader());

        await().atMost(Duration.ofSeconds(5)).until(unchangedFor(fired, Duration.ofSeconds(1)));
        assertThat(a.isLeader()).isFalse();
    }

    @Test
    void recreatesADeletedLeaseWithoutLosingLeadership() {
        LeaseClusterService a = service(client, "capo-a");
        List<Boolean> events = new CopyOnWriteArrayList<>();
        a.onLeadershipChange(events::add);
        started(a);
        await().atMost(TAKEOVER).until(a::isLeader);

        client.leases().inNamespace(NAMESPACE).withName(LEASE).delete();

        await().atMost(RETRY_PERIOD.multipliedBy(4)).until(() -> "capo-a".equals(holder()));
        assertThat(a.isLeader()).isTrue();
        assertThat(events).containsExactly(false, true);
    }

    @Test
    void takesOverALeaseWrittenWithoutTimesOrDuration() {
        client.leases().inNamespace(NAMESPACE).resource(new LeaseBuilder()
                .withNewMetadata().withName(LEASE).endMetadata()
                .withNewSpec().withHolderIdentity("someone-else").endSpec()
                .build()).create();
        LeaseClusterService a = started(service(client, "capo-a"));

        await().atMost(TAKEOVER).until(a::isLeader);
        assertThat(holder()).isEqualTo("capo-a");
    }

    @Test
    void takesOverALeaseWithoutSpec() {
        client.leases().inNamespace(NAMESPACE).resource(new LeaseBuilder()
                .withNewMetadata().withName(LEASE).endMetadata()
                .build()).create();
        LeaseClusterService a = started(service(client, "capo-a"));

        await().atMost(TAKEOVER).until(a::isLeader);
        assertThat(holder()).isEqualTo("capo-a");
    }

    @Test
    void stepsDownWhileTheApiServerIsDownAndLeadsAgainWhenItIsBack() throws Exception {
        KubernetesMockServer server = crudServer();
        server.init();
        int port = server.getPort();
        KubernetesClient outageClient = server.createClient();
        AtomicReference<KubernetesMockServer> running = new AtomicReference<>(server);
        cleanup.add(outageClient);
        cleanup.add(() -> running.get().destroy());
        LeaseClusterService a = started(service(outageClient, "capo-a"));
        await().atMost(TAKEOVER).until(a::isLeader);

        server.destroy();

        // the Lease is not renewed any more: local leadership must end before the Lease expires
        Instant down = Instant.now();
        await().atMost(LEASE_DURATION).until(() -> !a.isLeader());
        await().atMost(RETRY_PERIOD.multipliedBy(4)).until(() -> a.lastLoopActivity().isAfter(down.plusSeconds(2)));

        KubernetesMockServer restarted = crudServer();
        restarted.init(InetAddress.getByName(server.getHostName()), port);
        running.set(restarted);

        await().atMost(TAKEOVER).until(a::isLeader);
        assertThat(outageClient.leases().inNamespace(NAMESPACE).withName(LEASE).get().getSpec().getHolderIdentity())
                .isEqualTo("capo-a");
    }

    @Test
    void validatesItsSettings() {
        assertThatThrownBy(() -> new LeaseClusterService(client, NAMESPACE, LEASE, "capo-a", Duration.ofMillis(2500),
                RENEW_DEADLINE, RETRY_PERIOD)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LeaseClusterService(client, NAMESPACE, LEASE, "capo-a", LEASE_DURATION,
                LEASE_DURATION, RETRY_PERIOD)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LeaseClusterService(client, " ", LEASE)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new LeaseClusterService(client, NAMESPACE, LEASE).identity()).isNotBlank();
    }

    private LeaseClusterService service(KubernetesClient kubernetesClient, String identity) {
        return new LeaseClusterService(kubernetesClient, NAMESPACE, LEASE, identity, LEASE_DURATION, RENEW_DEADLINE,
                RETRY_PERIOD);
    }

    private LeaseClusterService started(LeaseClusterService service) {
        service.start();
        cleanup.add(service::stop);
        return service;
    }

    private CamelContext started(CamelContext context) {
        context.start();
        cleanup.add(context::stop);
        return context;
    }

    private static CamelContext context(LeaseClusterService service, AtomicInteger fired) throws Exception {
        return context(service, fired, "master:capo-release:timer:t?period=100");
    }

    private static CamelContext context(LeaseClusterService service, AtomicInteger fired, String uri) throws Exception {
        CamelContext context = new DefaultCamelContext();
        context.addService(service);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from(uri).routeId("release").process(exchange -> fired.incrementAndGet());
            }
        });
        return context;
    }

    /** True once {@code counter} kept the same value for {@code quiet}. */
    private static Callable<Boolean> unchangedFor(AtomicInteger counter, Duration quiet) {
        AtomicInteger last = new AtomicInteger(counter.get());
        AtomicReference<Instant> since = new AtomicReference<>(Instant.now());
        return () -> {
            int now = counter.get();
            if (last.getAndSet(now) != now) {
                since.set(Instant.now());
            }
            return Instant.now().isAfter(since.get().plus(quiet));
        };
    }

    private String holder() {
        Lease lease = client.leases().inNamespace(NAMESPACE).withName(LEASE).get();
        return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
    }

    /** Writes the Lease as another holder would; retried because it races with the leader's renewals. */
    private void steal(String identity, ZonedDateTime renewTime) {
        await().ignoreExceptions().atMost(Duration.ofSeconds(2)).until(() -> {
            client.leases().inNamespace(NAMESPACE).withName(LEASE).edit(lease -> new LeaseBuilder(lease)
                    .editSpec()
                    .withHolderIdentity(identity)
                    .withAcquireTime(renewTime)
                    .withRenewTime(renewTime)
                    .withLeaseDurationSeconds((int) LEASE_DURATION.toSeconds())
                    .endSpec()
                    .build());
            return true;
        });
    }

    private static KubernetesMockServer crudServer() {
        return new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesMixedDispatcher(new HashMap<>()), false);
    }
}
