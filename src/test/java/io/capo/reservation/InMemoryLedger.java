package io.capo.reservation;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** A ledger in memory with the store's idempotency rules, for unit tests of the deciders. */
public final class InMemoryLedger implements ReservationLedger {

    public final Map<String, Reservation> entries = new ConcurrentHashMap<>();
    public final AtomicInteger writes = new AtomicInteger();
    /** When set, reserve() answers with this future instead of writing. */
    public volatile CompletableFuture<ReserveResult> stall;
    /** When set, apply() answers with this future instead of writing. */
    public volatile CompletableFuture<Integer> applyStall;
    public final AtomicInteger applies = new AtomicInteger();

    @Override
    public synchronized CompletableFuture<ReserveResult> reserve(ReservationRequest request) {
        if (stall != null) {
            return stall;
        }
        ReserveResult result = ReserveResult.NOTHING;
        boolean changed = false;
        for (String cidr : request.cidrs()) {
            Reservation existing = entries.get(cidr);
            Reservation entry = request.entry(cidr);
            ReservationChange change = ReservationChange.of(existing != null, existing, entry);
            Reservation stored = change.stored(existing, entry);
            if (stored != null) {
                entries.put(cidr, stored);
                changed = true;
            }
            result = result.plus(change.counted());
        }
        if (changed) {
            writes.incrementAndGet();
        }
        return CompletableFuture.completedFuture(result);
    }

    @Override
    public synchronized CompletableFuture<Integer> apply(Collection<Reservation> releases, Collection<Reservation> markGone) {
        applies.incrementAndGet();
        if (applyStall != null) {
            return applyStall;
        }
        int removed = 0;
        for (Reservation r : releases) {
            if (entries.remove(r.cidr()) != null) {
                removed++;
            }
        }
        markGone.forEach(r -> entries.computeIfPresent(r.cidr(), (k, v) -> v.withGoneAt(r.goneAt())));
        return CompletableFuture.completedFuture(removed);
    }

    /** Counts the leader's repair calls; there is nothing half-written in memory to repair. */
    public final AtomicInteger repairs = new AtomicInteger();

    @Override
    public int repair(Instant now) {
        repairs.incrementAndGet();
        return 0;
    }

    @Override
    public Collection<Reservation> held() {
        return new ArrayList<>(entries.values());
    }

    @Override
    public Optional<Reservation> find(String cidr) {
        return Optional.ofNullable(entries.get(cidr));
    }

    @Override
    public boolean synced() {
        return true;
    }
}
