package io.capo.leader;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import io.fabric8.kubernetes.client.KubernetesClient;
import org.apache.camel.cluster.CamelClusterMember;
import org.apache.camel.support.cluster.AbstractCamelClusterService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Camel cluster service for {@code master:} endpoints, backed by one coordination.k8s.io Lease.
 * <p>
 * Unlike camel-kubernetes' {@code KubernetesClusterService}, leadership depends on the Lease only (no pod lookup,
 * so it works outside a pod) and the election restarts after every failure until the service stops. Every
 * {@code master:} namespace gets a view on the same Lease: Capo has a single leader.
 */
public final class LeaseClusterService extends AbstractCamelClusterService<LeaseClusterView> {

    public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(15);
    public static final Duration DEFAULT_RENEW_DEADLINE = Duration.ofSeconds(10);
    public static final Duration DEFAULT_RETRY_PERIOD = Duration.ofSeconds(2);

    private static final Logger LOG = LoggerFactory.getLogger(LeaseClusterService.class);

    private final String identity;
    private final LeaseElectionLoop loop;
    private final LeaseClusterMember localMember;
    private final List<LeaseClusterView> views = new CopyOnWriteArrayList<>();
    private final List<Consumer<Boolean>> leadershipListeners = new CopyOnWriteArrayList<>();
    private final Object listenerLock = new Object();
    private volatile String holder;

    public LeaseClusterService(KubernetesClient client, String leaseNamespace, String leaseName) {
        this(client, leaseNamespace, leaseName, null, null, null, null);
    }

    /**
     * @param client        used for the Lease only, never closed by this service
     * @param identity      holder identity written to the Lease, null for $HOSTNAME or else a random id
     * @param leaseDuration null for 15s; whole seconds, the Lease stores seconds
     * @param renewDeadline null for 10s
     * @param retryPeriod   null for 2s
     */
    public LeaseClusterService(KubernetesClient client, String leaseNamespace, String leaseName, String identity,
                               Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
        super(requireText(leaseName, "leaseName"));
        Objects.requireNonNull(client, "client");
        requireText(leaseNamespace, "leaseNamespace");
        this.identity = identity != null ? requireText(identity, "identity") : defaultIdentity();
        Duration lease = leaseDuration != null ? leaseDuration : DEFAULT_LEASE_DURATION;
        Duration renew = renewDeadline != null ? renewDeadline : DEFAULT_RENEW_DEADLINE;
        Duration retry = retryPeriod != null ? retryPeriod : DEFAULT_RETRY_PERIOD;
        if (lease.toMillis() % 1000 != 0) {
            // fabric8 truncates it when writing the Lease, others would see it expire before we stop renewing
            throw new IllegalArgumentException("leaseDuration must be whole seconds, got " + lease);
        }
        this.localMember = new LeaseClusterMember(this, this.identity, true);
        this.loop = new LeaseElectionLoop(client, leaseNamespace, leaseName, this.identity, lease, renew, retry,
                new LoopEvents());
    }

    /** True while this instance holds the Lease and renewed it within the renew deadline. */
    public boolean isLeader() {
        return loop.isLeader();
    }

    public String identity() {
        return identity;
    }

    /** Last read or write of the Lease or elector callback; stale means the election loop is dead. */
    public Instant lastLoopActivity() {
        return loop.lastActivity();
    }

    /**
     * Calls {@code listener} with the current leadership now, then after every change, from the election threads.
     * A value may be repeated; it must not block.
     */
    public void onLeadershipChange(Consumer<Boolean> listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (listenerLock) {
            leadershipListeners.add(listener);
            listener.accept(isLeader());
        }
    }

    @Override
    protected LeaseClusterView createView(String namespace) {
        LeaseClusterView view = new LeaseClusterView(this, namespace);
        views.add(view);
        return view;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        loop.start();
    }

    @Override
    protected void doStop() throws Exception {
        try {
            loop.stop();
        } finally {
            super.doStop();
        }
    }

    LeaseClusterMember localMember() {
        return localMember;
    }

    String holder() {
        return holder;
    }

    /** The local member when leading, else the other holder named in the Lease, else null. */
    CamelClusterMember leaderMember() {
        if (isLeader()) {
            return localMember;
        }
        String current = holder;
        if (current == null || current.isEmpty() || current.equals(identity)) {
            return null;
        }
        return new LeaseClusterMember(this, current, false);
    }

    List<CamelClusterMember> members() {
        CamelClusterMember leader = leaderMember();
        return leader == null || leader.isLocal() ? List.of(localMember) : List.of(leader, localMember);
    }

    private void fireViews() {
        CamelClusterMember leader = leaderMember();
        for (LeaseClusterView view : views) {
            try {
                view.leadershipChanged(leader);
            } catch (RuntimeException e) {
                LOG.warn("Leadership listener of cluster view {} failed", view.getNamespace(), e);
            }
        }
    }

    private void notifyListeners(boolean leader) {
        synchronized (listenerLock) {
            for (Consumer<Boolean> listener : leadershipListeners) {
                try {
                    listener.accept(leader);
                } catch (RuntimeException e) {
                    LOG.warn("Leadership listener failed", e);
                }
            }
        }
    }

    private static String defaultIdentity() {
        String hostname = System.getenv("HOSTNAME");
        return hostname != null && !hostname.isBlank() ? hostname : "capo-" + UUID.randomUUID();
    }

    private static String requireText(String value, String name) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
        return value;
    }

    private final class LoopEvents implements LeaseElectionLoop.Listener {

        @Override
        public void leadershipChanged(boolean leader) {
            if (leader) {
                holder = identity;
            } else if (identity.equals(holder)) {
                holder = null;
            }
            fireViews();
            notifyListeners(leader);
        }

        @Override
        public void holderChanged(String newHolder) {
            holder = newHolder;
            // gaining or losing the Lease ourselves is reported by leadershipChanged
            if (!isLeader() && !identity.equals(newHolder)) {
                fireViews();
            }
        }

        /**
         * Repeats "not leader" to the views. camel-master starts its consumer 1s after the leadership event without
         * checking leadership again, so if leadership is lost within that second the consumer would run on a
         * non-leader until the next change; a repeated event makes it stop that consumer.
         */
        @Override
        public void followerTick() {
            fireViews();
        }
    }
}
