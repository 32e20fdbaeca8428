package io.capo.informers;

import io.capo.reservation.PodFacts;
import io.capo.webhook.PodLookup;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** GETs a pod on the API server, on a few threads of its own so that the caller can stop waiting. */
public final class ApiPodLookup implements PodLookup, AutoCloseable {

    private static final int THREADS = 8;

    private final KubernetesClient client;
    private final ExecutorService executor;

    public ApiPodLookup(KubernetesClient client) {
        this.client = client;
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(1_000), r -> {
                    Thread t = new Thread(r, "capo-pod-lookup-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        this.executor = pool;
    }

    @Override
    public CompletableFuture<Optional<PodFacts>> get(String namespace, String name) {
        return CompletableFuture.supplyAsync(() -> {
            Pod pod = client.pods().inNamespace(namespace).withName(name).get();
            return Optional.ofNullable(pod).map(PodFactsMapper::from);
        }, executor);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
