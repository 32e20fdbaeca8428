package io.capo.config;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The current settings, readable from any thread, with listeners told about each change. */
public final class SettingsHolder {

    private static final Logger LOG = LoggerFactory.getLogger(SettingsHolder.class);

    private final AtomicReference<CapoSettings> current;
    private final List<Consumer<CapoSettings>> listeners = new CopyOnWriteArrayList<>();
    private final Object replaceLock = new Object();

    public SettingsHolder(CapoSettings initial) {
        this.current = new AtomicReference<>(Objects.requireNonNull(initial, "initial"));
    }

    public CapoSettings current() {
        return current.get();
    }

    /**
     * Makes {@code next} current and, when it differs from the previous settings, calls the listeners in
     * registration order on this thread. A listener that throws is logged and the others still run.
     */
    public void replace(CapoSettings next) {
        Objects.requireNonNull(next, "next");
        // serialized so that listeners see changes in the order they were made
        synchronized (replaceLock) {
            CapoSettings previous = current.getAndSet(next);
            if (next.equals(previous)) {
                return;
            }
            for (Consumer<CapoSettings> listener : listeners) {
                try {
                    listener.accept(next);
                } catch (RuntimeException e) {
                    LOG.error("settings listener failed", e);
                }
            }
        }
    }

    public Registration onChange(Consumer<CapoSettings> listener) {
        Consumer<CapoSettings> added = Objects.requireNonNull(listener, "listener");
        listeners.add(added);
        return () -> listeners.remove(added);
    }
}
