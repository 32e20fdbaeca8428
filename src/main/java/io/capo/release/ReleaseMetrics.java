package io.capo.release;

/** What the release cycle reports; implemented by Capo's metrics. */
public interface ReleaseMetrics {

    /** Reason of a skipped cycle: the previous cycle's write has not completed yet. */
    String WRITE_PENDING = "write-pending";

    void released(String reason, int count);

    void failure(String stage);

    /** A cycle that did not run, e.g. {@link #WRITE_PENDING}. */
    default void skipped(String reason) {
    }
}
