package io.capo.webhook;

import io.capo.reservation.PodFacts;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** One GET of a pod on the API server. */
@FunctionalInterface
public interface PodLookup {

    CompletableFuture<Optional<PodFacts>> get(String namespace, String name);

    /** The API server could not be asked, or did not answer in time. */
    final class LookupFailedException extends RuntimeException {
        public LookupFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
