package io.capo.webhook;

import io.capo.reservation.PodFacts;

import java.time.Duration;
import java.util.Optional;

/**
 * Confirms that the pod an AdmissionReview describes is what the cluster says it is, before anything is written:
 * anyone who can reach the webhook port can post a review, only the cluster's own answer is evidence.
 */
public interface PodConfirmation {

    /** The answer; {@code reason} names what did not match ({@code not-found}, {@code uid}, {@code ip}, {@code name}). */
    record Result(boolean confirmed, String reason, String detail) {
        public static final Result CONFIRMED = new Result(true, "", "");

        static Result refused(String reason, String detail) {
            return new Result(false, reason, detail);
        }
    }

    /**
     * @param namespace the review's namespace
     * @param name      the review's pod name
     * @param claimed   the pod as the review describes it (its oldObject)
     * @param budget    how long a lookup on the API server may take
     * @throws PodLookup.LookupFailedException when the cluster could not be asked in time
     */
    Result confirm(String namespace, String name, PodFacts claimed, Duration budget);

    /**
     * The pod as the API server has it (one GET), for a review that carries no pod (an eviction) whose pod the
     * cache does not know; empty when the API server has no such pod.
     *
     * @throws PodLookup.LookupFailedException when the API server could not be asked within {@code budget}
     */
    Optional<PodFacts> get(String namespace, String name, Duration budget);
}
