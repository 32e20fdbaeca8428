package io.capo.config;

/** Handle to undo a watch or a listener registration; closing it is the same as cancelling. */
@FunctionalInterface
public interface Registration extends AutoCloseable {

    void cancel();

    @Override
    default void close() {
        cancel();
    }
}
