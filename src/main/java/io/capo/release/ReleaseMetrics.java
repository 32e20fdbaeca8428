package io.capo.release;

/** What the release cycle reports; implemented by Capo's metrics. */
public interface ReleaseMetrics {

    void released(String reason, int count);

    void failure(String stage);
}
