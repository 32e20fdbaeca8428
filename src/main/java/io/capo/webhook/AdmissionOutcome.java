package io.capo.webhook;

/** How the webhook answered a review: the {@code result} label of {@code capo_webhook_requests_total}. */
public enum AdmissionOutcome {
    /** Not a pod deletion or eviction. */
    NOT_HANDLED("not-handled", true),
    NAMESPACE_TERMINATING("namespace-terminating", true),
    /** The pod is not known (an eviction of a pod that is gone): nothing to park. */
    POD_UNKNOWN("pod-unknown", true),
    /** Not selected, or no address to park. */
    SKIPPED("skipped", true),
    DRY_RUN("dry-run", true),
    /** The cluster does not confirm the review's pod: allowed, nothing written. */
    UNCONFIRMED("unconfirmed", true),
    RESERVED("reserved", true),
    ALREADY_RESERVED("already-reserved", true),
    /** The write or a lookup failed or ran out of time, and the failure mode (or a gone pod) allows. */
    FAILED_OPEN("failed-open", true),
    /** The write or a lookup failed or ran out of time, and the failure mode refuses (429, the caller retries). */
    DENIED("denied", false),
    /** A body that is not a readable AdmissionReview (answered 400, not by a review). */
    BAD_REQUEST("bad-request", false);

    private final String label;
    private final boolean allowed;

    AdmissionOutcome(String label, boolean allowed) {
        this.label = label;
        this.allowed = allowed;
    }

    public String label() {
        return label;
    }

    boolean allowed() {
        return allowed;
    }
}
