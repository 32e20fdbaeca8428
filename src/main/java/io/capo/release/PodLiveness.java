package io.capo.release;

/** What the cluster currently says about the pod a reservation was made for. */
@FunctionalInterface
public interface PodLiveness {

    enum State {
        /** The pod with that UID still holds the address and is not being deleted. */
        ALIVE,
        /** The pod is being deleted; its grace period is running. */
        TERMINATING,
        /** No pod with that UID holds the address any more. */
        GONE,
        /** Not known yet, for example while caches are not synced. */
        UNKNOWN
    }

    /** State of the pod (namespace/name) with that UID still holding that IP (cidr like 10.0.0.5/32). */
    State state(String namespace, String pod, String uid, String cidr);
}
