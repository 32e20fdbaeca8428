package io.capo.calico;

import io.capo.reservation.ReservationChange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BinaryOperator;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

/**
 * Changes queued for one IPReservation object. A change is applied to a fresh working copy on every
 * write attempt (after a conflict the object is read again), so it keeps no state between attempts
 * except its last outcome.
 */
final class Operations {

    private static final Logger LOG = LoggerFactory.getLogger(Operations.class);

    private Operations() {
    }

    /** Completes (or fails) each change; one failing callback does not keep the others from completing. */
    static void forEachQuietly(List<? extends Op<?>> ops, Consumer<Op<?>> action) {
        for (Op<?> op : ops) {
            try {
                action.accept(op);
            } catch (RuntimeException e) {
                LOG.warn("completing a reservation change failed: {}", e.toString());
            }
        }
    }

    abstract static class Op<T> {
        final CompletableFuture<T> future = new CompletableFuture<>();
        T outcome;

        /** Applies the change; returns true when the object changed. */
        abstract boolean applyTo(ReservationObject object, int maxEntries);

        void complete() {
            future.complete(outcome);
        }

        void fail(Throwable cause) {
            future.completeExceptionally(cause);
        }
    }

    /** Parks addresses; the outcome is the CIDRs that were not in the object before. */
    static final class Add extends Op<List<String>> {
        final List<String> cidrs;
        /**
         * Whether it may be appended without a resourceVersion. Webhook calls wait for their write and rarely
         * park the same address twice at once; the backstop runs on every replica and sees the same pod go on all
         * of them at once, so its writes are guarded: where Calico does not treat reservedCIDRs as a set (v1 CRDs,
         * Calico before 3.32), concurrent appends of one address would store it twice.
         */
        final boolean appendable;

        Add(List<String> cidrs) {
            this(cidrs, false);
        }

        Add(List<String> cidrs, boolean appendable) {
            this.cidrs = List.copyOf(cidrs);
            this.appendable = appendable;
        }

        @Override
        boolean applyTo(ReservationObject object, int maxEntries) {
            long missing = cidrs.stream().filter(c -> !object.containsCidr(c)).count();
            if (!ReservationChange.fits(object.size(), missing, maxEntries)) {
                throw new ObjectFullException(object.name(), maxEntries);
            }
            outcome = cidrs.stream().filter(object::add).toList();
            return !outcome.isEmpty();
        }
    }

    /** Releases addresses; the outcome is how many were removed. */
    static final class Remove extends Op<Integer> {
        final List<String> cidrs;

        Remove(List<String> cidrs) {
            this.cidrs = List.copyOf(cidrs);
        }

        @Override
        boolean applyTo(ReservationObject object, int maxEntries) {
            outcome = (int) cidrs.stream().filter(object::remove).count();
            return outcome > 0;
        }
    }

    /** Any other change; the function returns how many entries it changed (0 = no write). */
    static final class Custom extends Op<Integer> {
        final ToIntFunction<ReservationObject> change;

        Custom(ToIntFunction<ReservationObject> change) {
            this.change = change;
        }

        @Override
        boolean applyTo(ReservationObject object, int maxEntries) {
            outcome = change.applyAsInt(object);
            return outcome > 0;
        }
    }

    static final class ObjectFullException extends RuntimeException {
        ObjectFullException(String name, int max) {
            super("IPReservation " + name + " already holds " + max + " addresses; raise reservationObjects or "
                    + "lower ipReserveMaxCount");
        }
    }

    static <T> CompletableFuture<T> sum(List<CompletableFuture<T>> parts, T zero, BinaryOperator<T> plus) {
        if (parts.isEmpty()) {
            return CompletableFuture.completedFuture(zero);
        }
        if (parts.size() == 1) {
            return parts.get(0);
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                .thenApply(ignored -> parts.stream().map(CompletableFuture::join).reduce(zero, plus));
    }
}
