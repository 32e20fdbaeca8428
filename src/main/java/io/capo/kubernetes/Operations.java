package io.capo.kubernetes;

import io.capo.reservation.Reservation;
import io.capo.reservation.ReserveResult;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BinaryOperator;
import java.util.function.ToIntFunction;

/**
 * Changes queued for one IPReservation object. A change is applied to a fresh working copy on every
 * write attempt (after a conflict the object is read again), so it keeps no state between attempts
 * except its last outcome.
 */
final class Operations {

    private Operations() {
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

    /** Parks the addresses of one pod held in one object; repeated calls for the same pod UID change nothing. */
    static final class Reserve extends Op<ReserveResult> {
        final List<Reservation> entries;

        Reserve(List<Reservation> entries) {
            this.entries = List.copyOf(entries);
        }

        @Override
        boolean applyTo(ReservationObject object, int maxEntries) {
            ReserveResult result = ReserveResult.NOTHING;
            for (Reservation entry : entries) {
                result = result.plus(applyOne(object, entry, maxEntries));
            }
            outcome = result;
            return result.added() + result.updated() > 0;
        }

        private static ReserveResult applyOne(ReservationObject object, Reservation entry, int maxEntries) {
            Reservation existing = object.entry(entry.cidr());
            if (existing != null && existing.uid().equals(entry.uid())) {
                if (entry.goneAt() != null && existing.goneAt() == null) {
                    object.put(existing.withGoneAt(entry.goneAt()));
                    return new ReserveResult(0, 1, 0);
                }
                return new ReserveResult(0, 0, 1);
            }
            if (existing == null && object.containsCidr(entry.cidr())) {
                // parked by someone else already: the address is safe, and it is not Capo's to release
                return new ReserveResult(0, 0, 1);
            }
            if (existing == null && object.size() >= maxEntries) {
                throw new ObjectFullException(object.name(), maxEntries);
            }
            if (existing == null && !object.fits(entry)) {
                throw new ObjectFullException(object.name(), object.size(), object.annotationBytes());
            }
            object.put(entry);
            return existing == null ? new ReserveResult(1, 0, 0) : new ReserveResult(0, 1, 0);
        }
    }

    /** Starts the time to live of every entry of a pod UID that has none yet. */
    static final class MarkGone extends Op<Integer> {
        final String uid;
        final Instant at;

        MarkGone(String uid, Instant at) {
            this.uid = uid;
            this.at = at;
        }

        @Override
        boolean applyTo(ReservationObject object, int maxEntries) {
            int changed = 0;
            for (Reservation r : List.copyOf(object.entries())) {
                if (r.uid().equals(uid) && r.goneAt() == null) {
                    object.put(r.withGoneAt(at));
                    changed++;
                }
            }
            outcome = changed;
            return changed > 0;
        }
    }

    /** Removes released entries that still belong to the same pod, and records gone times. */
    static final class Release extends Op<Integer> {
        final List<Reservation> releases;
        final List<Reservation> gone;

        Release(List<Reservation> releases, List<Reservation> gone) {
            this.releases = List.copyOf(releases);
            this.gone = List.copyOf(gone);
        }

        @Override
        boolean applyTo(ReservationObject object, int maxEntries) {
            int removed = 0;
            boolean changed = false;
            for (Reservation r : releases) {
                Reservation current = object.entry(r.cidr());
                if (current != null && current.uid().equals(r.uid()) && current.reservedAt().equals(r.reservedAt())) {
                    object.remove(r.cidr());
                    removed++;
                }
            }
            for (Reservation r : gone) {
                Reservation current = object.entry(r.cidr());
                if (current != null && current.uid().equals(r.uid()) && current.goneAt() == null) {
                    object.put(current.withGoneAt(r.goneAt()));
                    changed = true;
                }
            }
            outcome = removed;
            return removed > 0 || changed;
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

        ObjectFullException(String name, int held, int annotationBytes) {
            super("IPReservation " + name + " has no room for another address: its " + held + " entries take "
                    + annotationBytes / 1024 + " KiB of annotations, near Kubernetes' 256 KiB limit (long pod, "
                    + "namespace or node names); raise reservationObjects or lower ipReserveMaxCount");
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
