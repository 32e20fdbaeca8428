package io.capo.reservation;

import java.time.Instant;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** Where parked addresses live. Implemented over Calico IPReservation objects. */
public interface ReservationLedger {

    /** Parks the addresses. Idempotent per (pod UID, address). Completes once the write is stored. */
    CompletableFuture<ReserveResult> reserve(ReservationRequest request);

    /**
     * Removes released entries (only if they still belong to the same pod UID) and records gone times, with
     * at most one write per reservation object. Returns how many entries were removed.
     */
    CompletableFuture<Integer> apply(Collection<Reservation> releases, Collection<Reservation> markGone);

    /**
     * Leader only: completes what a crash between two writes left half done (an address parked without its
     * metadata is held a full time to live from now; metadata of an address no longer parked is dropped).
     * Returns how many entries it changed.
     */
    int repair(Instant now);

    /** The entries Capo holds, as last seen. */
    Collection<Reservation> held();

    Optional<Reservation> find(String cidr);

    /** True once the ledger has read the current state from the API server. */
    boolean synced();
}
