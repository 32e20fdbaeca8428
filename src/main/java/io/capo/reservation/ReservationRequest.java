package io.capo.reservation;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Park these addresses of one pod.
 *
 * @param cidrs  normalized host CIDRs (see {@link Cidrs})
 * @param goneAt set when the pod is known to be gone already (kubelet eviction, late reservation)
 */
public record ReservationRequest(String namespace, String pod, String uid, String node, List<String> cidrs,
                                 String reason, Instant reservedAt, Instant goneAt, Duration ttl) {

    public ReservationRequest {
        cidrs = List.copyOf(cidrs);
    }

    public Reservation entry(String cidr) {
        return new Reservation(cidr, namespace, pod, uid, node, reason, reservedAt, goneAt, ttl);
    }

    public String podKey() {
        return namespace + "/" + pod;
    }
}
