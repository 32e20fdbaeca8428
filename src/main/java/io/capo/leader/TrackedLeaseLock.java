package io.capo.leader;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;

/**
 * A {@link LeaseLock} that reports every read and write of the Lease, and that reads Leases written by other
 * tools without failing.
 * <p>
 * fabric8's {@code LeaseLock} throws a NullPointerException for a Lease without {@code leaseDurationSeconds},
 * {@code acquireTime} or {@code renewTime}, and returns no record for a Lease without spec (the elector then tries
 * to create the existing Lease and gets 409 forever). A non-{@link KubernetesClientException} thrown while acquiring
 * leaves {@code LeaderElector.start()}'s future uncompleted for good, so every failure is turned into one.
 */
final class TrackedLeaseLock extends LeaseLock {

    interface Tracker {

        /** Called before and after every API call on the Lease. */
        void activity();

        /** Called after the Lease was created or updated with {@code record}. */
        void written(LeaderElectionRecord record);
    }

    private static final ZonedDateTime EXPIRED = ZonedDateTime.ofInstant(Instant.EPOCH, ZoneOffset.UTC);

    private final Tracker tracker;

    TrackedLeaseLock(String namespace, String name, String identity, Tracker tracker) {
        super(namespace, name, identity);
        this.tracker = tracker;
    }

    @Override
    public LeaderElectionRecord get(KubernetesClient client) {
        tracker.activity();
        try {
            return super.get(client);
        } catch (KubernetesClientException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new KubernetesClientException("Cannot read " + describe(), e);
        } finally {
            tracker.activity();
        }
    }

    @Override
    public void create(KubernetesClient client, LeaderElectionRecord record) {
        tracker.activity();
        try {
            super.create(client, record);
        } catch (KubernetesClientException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new KubernetesClientException("Cannot create " + describe(), e);
        } finally {
            tracker.activity();
        }
        tracker.written(record);
    }

    @Override
    public void update(KubernetesClient client, LeaderElectionRecord record) {
        tracker.activity();
        try {
            super.update(client, record);
        } catch (KubernetesClientException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new KubernetesClientException("Cannot update " + describe(), e);
        } finally {
            tracker.activity();
        }
        tracker.written(record);
    }

    /** Missing times count as long expired and a missing duration as zero, like client-go's zero values. */
    @Override
    protected LeaderElectionRecord toRecord(Lease lease) {
        LeaseSpec spec = lease.getSpec() != null ? lease.getSpec() : new LeaseSpec();
        ZonedDateTime renewTime = spec.getRenewTime() != null ? spec.getRenewTime() : EXPIRED;
        ZonedDateTime acquireTime = spec.getAcquireTime() != null ? spec.getAcquireTime() : renewTime;
        Duration duration = Duration.ofSeconds(spec.getLeaseDurationSeconds() != null ? spec.getLeaseDurationSeconds() : 0);
        int transitions = spec.getLeaseTransitions() != null ? spec.getLeaseTransitions() : 0;
        return new LeaderElectionRecord(spec.getHolderIdentity(), duration, acquireTime, renewTime, transitions);
    }
}
