package io.capo.leader;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.RequestConfig;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs fabric8 leader elections on one Lease, one round after the other, until stopped.
 * <p>
 * A round is one single-use {@link LeaderElector}. It ends when the elector gives up (lease lost, renew deadline
 * passed) or when the supervising thread sees it is stuck; the loop then reports not-leader, waits the retry period
 * and starts the next round. Local leadership is only claimed after this round wrote the Lease naming us, and is
 * dropped once the Lease has not been renewed for the renew deadline, whatever the elector still believes.
 */
final class LeaseElectionLoop {

    static final String THREAD_NAME = "capo-leader-election";

    interface Listener {

        /** Local leadership changed. Called under the state lock, in order. */
        void leadershipChanged(boolean leader);

        /** The Lease names another holder: null when released, possibly the local identity. Under the state lock. */
        void holderChanged(String holder);

        /** Called on every supervision tick while not leading, under the state lock. */
        void followerTick();
    }

    private static final Logger LOG = LoggerFactory.getLogger(LeaseElectionLoop.class);
    private static final Duration MIN_REQUEST_TIMEOUT = Duration.ofSeconds(1);

    private final KubernetesClient client;
    private final String namespace;
    private final String name;
    private final String identity;
    private final Duration leaseDuration;
    private final Duration renewDeadline;
    private final Duration retryPeriod;
    private final Duration tick;
    private final Duration stallTimeout;
    private final Listener listener;
    private final Object lifecycleLock = new Object();
    private final Object stateLock = new Object();

    private volatile boolean running;
    private volatile boolean leader;
    private volatile Instant lastActivity = Instant.now();
    private volatile Round current;
    private Thread thread; // guarded by lifecycleLock

    LeaseElectionLoop(KubernetesClient client, String namespace, String name, String identity, Duration leaseDuration,
                      Duration renewDeadline, Duration retryPeriod, Listener listener) {
        this.client = electionClient(client, retryPeriod);
        this.namespace = namespace;
        this.name = name;
        this.identity = identity;
        this.leaseDuration = leaseDuration;
        this.renewDeadline = renewDeadline;
        this.retryPeriod = retryPeriod;
        Duration margin = leaseDuration.minus(renewDeadline).dividedBy(2);
        this.tick = retryPeriod.compareTo(margin) < 0 ? retryPeriod : margin;
        this.stallTimeout = leaseDuration.plus(renewDeadline);
        this.listener = listener;
        // fabric8 checks the durations when the builder gets the config; fail now rather than in the loop thread
        this.client.leaderElector().withConfig(config(new TrackedLeaseLock(namespace, name, identity, null),
                new LeaderCallbacks(() -> { }, () -> { }, holder -> { })));
    }

    /**
     * The elector retries every retry period by itself. fabric8's default per-request retries (10, exponential
     * backoff up to 3.2s) would block one attempt for about 20s while the API server is unreachable, past the
     * lease duration, so the election client sends each request once, with a timeout of one retry period (at least
     * {@link #MIN_REQUEST_TIMEOUT}, the first request also opens the connection).
     */
    private static KubernetesClient electionClient(KubernetesClient client, Duration retryPeriod) {
        RequestConfig base = client.getConfiguration().getRequestConfig();
        RequestConfigBuilder builder = base != null ? new RequestConfigBuilder(base) : new RequestConfigBuilder();
        Duration timeout = retryPeriod.compareTo(MIN_REQUEST_TIMEOUT) > 0 ? retryPeriod : MIN_REQUEST_TIMEOUT;
        RequestConfig requestConfig = builder
                .withRequestTimeout(Math.toIntExact(timeout.toMillis()))
                .withRequestRetryBackoffLimit(0)
                .build();
        return client.newClient(requestConfig).adapt(KubernetesClient.class);
    }

    void start() {
        synchronized (lifecycleLock) {
            if (running) {
                return;
            }
            running = true;
            touch();
            thread = new Thread(this::run, THREAD_NAME);
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** Stops the loop; when leading, reports not-leader first, then releases the Lease if the API server answers. */
    void stop() {
        Round round;
        Thread loopThread;
        synchronized (lifecycleLock) {
            if (!running) {
                return;
            }
            running = false;
            round = current;
            loopThread = thread;
            thread = null;
            lifecycleLock.notifyAll();
        }
        retire(round);
        if (round != null) {
            round.cancel();
        }
        if (loopThread != null && loopThread != Thread.currentThread()) {
            try {
                loopThread.join(renewDeadline.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        LOG.info("Leader election on {} stopped", describe());
    }

    boolean isLeader() {
        return leader;
    }

    Instant lastActivity() {
        return lastActivity;
    }

    private void run() {
        LOG.info("Leader election on {} started", describe());
        while (running) {
            try {
                Round round = startRound();
                if (round != null) {
                    supervise(round);
                }
            } catch (RuntimeException e) {
                LOG.warn("Leader election round on {} failed", describe(), e);
            }
            retire(current);
            touch();
            pause(retryPeriod);
        }
    }

    private Round startRound() {
        synchronized (lifecycleLock) {
            if (!running) {
                return null;
            }
            Round round = new Round();
            current = round;
            round.future = round.elector.start();
            return round;
        }
    }

    private void supervise(Round round) {
        while (true) {
            try {
                round.future.get(tick.toMillis(), TimeUnit.MILLISECONDS);
                LOG.info("Leader election round on {} ended", describe());
                return;
            } catch (TimeoutException e) {
                check(round);
            } catch (CancellationException e) {
                return;
            } catch (ExecutionException e) {
                LOG.warn("Leader election round on {} failed", describe(), e.getCause());
                return;
            } catch (InterruptedException e) {
                // this thread is private to the loop and only stop() ends it; an interrupt just wakes it up
                LOG.debug("Leader election thread interrupted, ignoring");
            }
        }
    }

    private void check(Round round) {
        Instant now = Instant.now();
        String reason;
        synchronized (stateLock) {
            if (leader && round.renewedAt != null && now.isAfter(round.renewedAt.plus(renewDeadline))) {
                reason = "the Lease was last renewed at " + round.renewedAt;
            } else if (now.isAfter(lastActivity.plus(stallTimeout))) {
                reason = "no election activity since " + lastActivity;
            } else {
                if (!leader) {
                    notifyFollowerTick();
                }
                return;
            }
            round.retired = true;
            setLeader(false);
        }
        LOG.warn("Restarting leader election on {}: {}", describe(), reason);
        // may wait for an API call in flight: the elector holds its monitor during the call
        round.cancel();
    }

    private void retire(Round round) {
        synchronized (stateLock) {
            if (round != null) {
                round.retired = true;
            }
            setLeader(false);
        }
    }

    private void pause(Duration duration) {
        long deadline = System.nanoTime() + duration.toNanos();
        synchronized (lifecycleLock) {
            long remaining = duration.toNanos();
            while (running && remaining > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(lifecycleLock, remaining);
                } catch (InterruptedException e) {
                    LOG.debug("Leader election thread interrupted, ignoring");
                }
                remaining = deadline - System.nanoTime();
            }
        }
    }

    private void startedLeading(Round round) {
        touch();
        synchronized (stateLock) {
            round.electorLeading = true;
            if (isCurrent(round) && round.renewedAt != null) {
                setLeader(true);
            }
        }
    }

    private void stoppedLeading(Round round) {
        touch();
        synchronized (stateLock) {
            round.electorLeading = false;
            if (isCurrent(round)) {
                setLeader(false);
            }
        }
    }

    private void leaseWritten(Round round, LeaderElectionRecord record) {
        if (!identity.equals(record.getHolderIdentity())) {
            return;
        }
        synchronized (stateLock) {
            round.renewedAt = record.getRenewTime().toInstant();
            if (isCurrent(round) && round.electorLeading) {
                setLeader(true);
            }
        }
    }

    private void holderObserved(Round round, String holder) {
        touch();
        synchronized (stateLock) {
            if (isCurrent(round)) {
                try {
                    listener.holderChanged(holder);
                } catch (RuntimeException e) {
                    LOG.warn("Leader election listener failed on holder change", e);
                }
            }
        }
    }

    // callers hold stateLock
    private boolean isCurrent(Round round) {
        return round == current && !round.retired;
    }

    // callers hold stateLock; a listener exception must not reach the elector, it would end the round
    private void setLeader(boolean value) {
        if (leader == value) {
            return;
        }
        leader = value;
        if (value) {
            LOG.info("Leader of {}", describe());
        } else {
            LOG.info("Not leader of {}", describe());
        }
        try {
            listener.leadershipChanged(value);
        } catch (RuntimeException e) {
            LOG.warn("Leader election listener failed on leadership change to {}", value, e);
        }
    }

    private void notifyFollowerTick() {
        try {
            listener.followerTick();
        } catch (RuntimeException e) {
            LOG.warn("Leader election listener failed on follower tick", e);
        }
    }

    private void touch() {
        lastActivity = Instant.now();
    }

    private String describe() {
        return "Lease " + namespace + "/" + name + " as " + identity;
    }

    private LeaderElectionConfig config(TrackedLeaseLock lock, LeaderCallbacks callbacks) {
        return new LeaderElectionConfigBuilder()
                .withName(name)
                .withLock(lock)
                .withLeaseDuration(leaseDuration)
                .withRenewDeadline(renewDeadline)
                .withRetryPeriod(retryPeriod)
                .withLeaderCallbacks(callbacks)
                .withReleaseOnCancel(true)
                .build();
    }

    /** One single-use elector and what it did. The flags are guarded by stateLock. */
    private final class Round {

        private final LeaderElector elector;
        private volatile CompletableFuture<?> future;
        private boolean electorLeading;
        private boolean retired;
        private Instant renewedAt;

        Round() {
            TrackedLeaseLock lock = new TrackedLeaseLock(namespace, name, identity, new TrackedLeaseLock.Tracker() {
                @Override
                public void activity() {
                    touch();
                }

                @Override
                public void written(LeaderElectionRecord record) {
                    leaseWritten(Round.this, record);
                }
            });
            LeaderCallbacks callbacks = new LeaderCallbacks(() -> startedLeading(this), () -> stoppedLeading(this),
                    holder -> holderObserved(this, holder));
            this.elector = client.leaderElector().withConfig(config(lock, callbacks)).build();
        }

        /** With releaseOnCancel, fabric8 releases a Lease we hold inside this call. */
        void cancel() {
            CompletableFuture<?> f = future;
            if (f != null) {
                f.cancel(true);
            }
        }
    }
}
