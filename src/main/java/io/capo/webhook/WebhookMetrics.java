package io.capo.webhook;

/** What the webhook reports; implemented by Capo's metrics. */
public interface WebhookMetrics {

    /** One answered request. */
    void request(String operation, String result, long nanos);

    /** Addresses newly parked by the webhook. */
    void reserved(String reason, int count);

    /** A review whose pod the cluster did not confirm (nothing was written), by what did not match. */
    default void unconfirmed(String reason) {
    }
}
