package io.capo.reservation;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One parked address, as stored beside its CIDR entry in the Calico IPReservation.
 *
 * @param cidr       normalized entry, {@code a.b.c.d/32} or {@code x::y/128}
 * @param namespace  namespace of the pod that held the address
 * @param pod        name of that pod
 * @param uid        UID of that pod
 * @param node       node the pod ran on, may be empty
 * @param reason     why it was reserved (see {@link ReservationReason})
 * @param reservedAt when Capo parked the address (UTC)
 * @param goneAt     when the pod was really gone, null while it may still be running
 * @param ttl        per-workload time to live, null for the global one
 */
public record Reservation(String cidr, String namespace, String pod, String uid, String node, String reason,
                          Instant reservedAt, Instant goneAt, Duration ttl) {

    public Reservation {
        Objects.requireNonNull(cidr, "cidr");
        Objects.requireNonNull(reservedAt, "reservedAt");
        namespace = namespace == null ? "" : namespace;
        pod = pod == null ? "" : pod;
        uid = uid == null ? "" : uid;
        node = node == null ? "" : node;
        reason = reason == null ? "" : reason;
    }

    /** The moment the time to live counts from: when the pod was gone, else when it was reserved. */
    public Instant ttlStart() {
        return goneAt != null ? goneAt : reservedAt;
    }

    public Reservation withGoneAt(Instant at) {
        return new Reservation(cidr, namespace, pod, uid, node, reason, reservedAt, at, ttl);
    }

    public String podKey() {
        return namespace + "/" + pod;
    }
}
