package io.capo.calico;

import java.util.concurrent.atomic.AtomicInteger;

/** Counts what a reservation store reports, as capo_ipreservation_writes_total and its siblings do. */
public final class CountingStoreMetrics implements StoreMetrics {

    public final AtomicInteger writes = new AtomicInteger();
    public final AtomicInteger conflicts = new AtomicInteger();
    public final AtomicInteger failures = new AtomicInteger();
    public final AtomicInteger metadataWrites = new AtomicInteger();

    @Override
    public void metadataWrite(long nanos) {
        metadataWrites.incrementAndGet();
    }

    @Override
    public void write(String object, long nanos) {
        writes.incrementAndGet();
    }

    @Override
    public void conflict(String object) {
        conflicts.incrementAndGet();
    }

    @Override
    public void writeFailure(String object) {
        failures.incrementAndGet();
    }
}
