package io.capo.kubernetes;

/** What the reservation store reports; implemented by Capo's metrics. */
public interface StoreMetrics {

    void write(String object);

    void conflict(String object);

    void writeFailure(String object);

    StoreMetrics NONE = new StoreMetrics() {
        @Override
        public void write(String object) {
        }

        @Override
        public void conflict(String object) {
        }

        @Override
        public void writeFailure(String object) {
        }
    };
}
