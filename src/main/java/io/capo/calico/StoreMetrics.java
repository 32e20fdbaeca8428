package io.capo.calico;

/** What the reservation store reports; implemented by Capo's metrics. */
public interface StoreMetrics {

    /** A successful write to the object, which took {@code nanos}. */
    void write(String object, long nanos);

    void conflict(String object);

    void writeFailure(String object);

    /** A successful write (create, patch, delete) of one ReservedIP, off the critical path. */
    void metadataWrite(long nanos);

}
