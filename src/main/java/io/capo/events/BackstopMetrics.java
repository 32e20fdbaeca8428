package io.capo.events;

/** What the event backstop reports; implemented by Capo's metrics. */
public interface BackstopMetrics {

    void reserved(String reason, int count);

    /** A selected pod disappeared while its address was not parked. */
    void late(int count);

    void failure(String stage);
}
