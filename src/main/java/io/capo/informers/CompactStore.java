package io.capo.informers;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * An informer's item store that keeps a compact record of each object instead of the object: a fabric8 {@code Pod}
 * costs about 40 KiB of heap, the few fields Capo reads a few hundred bytes. The informer still receives the full
 * object from the API server, one page at a time; {@link #get} rebuilds a minimal object (for the informer's own
 * update and delete notifications), and Capo reads the records through {@link #record}.
 *
 * @param <T> the Kubernetes kind
 * @param <C> the compact record; it must keep the resource version, which the informer compares on updates
 */
final class CompactStore<T extends HasMetadata, C> implements ItemStore<T> {

    private final Map<String, C> records = new ConcurrentHashMap<>();
    private final Function<T, C> compact;
    private final Function<C, T> rebuild;

    CompactStore(Function<T, C> compact, Function<C, T> rebuild) {
        this.compact = compact;
        this.rebuild = rebuild;
    }

    C record(String key) {
        return records.get(key);
    }

    Stream<C> records() {
        return records.values().stream();
    }

    @Override
    public String getKey(T object) {
        return Cache.metaNamespaceKeyFunc(object);
    }

    @Override
    public T put(String key, T object) {
        return toObject(records.put(key, compact.apply(object)));
    }

    @Override
    public T remove(String key) {
        return toObject(records.remove(key));
    }

    @Override
    public Stream<String> keySet() {
        return records.keySet().stream();
    }

    @Override
    public Stream<T> values() {
        return records.values().stream().map(rebuild);
    }

    @Override
    public int size() {
        return records.size();
    }

    @Override
    public T get(String key) {
        return toObject(records.get(key));
    }

    private T toObject(C record) {
        return record == null ? null : rebuild.apply(record);
    }
}
