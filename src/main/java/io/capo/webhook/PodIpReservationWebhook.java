package io.capo.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import io.capo.logging.Failures;
import io.capo.reservation.Cidrs;
import io.capo.reservation.ClusterView;
import io.capo.reservation.NamespaceFacts;
import io.capo.reservation.PodFacts;
import io.capo.reservation.PodLogContext;
import io.capo.reservation.ReservationLedger;
import io.capo.reservation.ReservationReason;
import io.capo.reservation.ReservationRequest;
import io.capo.reservation.ReserveResult;
import io.capo.reservation.Selection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The validating admission webhook {@code POST /pod-ip-reservation}: parks the IP of a selected pod before
 * the API server deletes or evicts it. It never blocks anything it is not responsible for, and it always
 * answers within the configured budget.
 */
public final class PodIpReservationWebhook {

    private static final Logger LOG = LoggerFactory.getLogger(PodIpReservationWebhook.class);

    private final ClusterView cluster;
    private final ReservationLedger ledger;
    private final Supplier<WebhookPolicy> policy;
    private final Function<JsonNode, PodFacts> podReader;
    private final PodConfirmation confirmation;
    private final WebhookMetrics metrics;
    private final Clock clock;
    /** Where an answer is built once its write completed (not on the writer's thread). */
    private final Executor answers;
    /**
     * Writes that missed the budget of a call that then let the pod go, by pod UID, while still pending. The API
     * server calls the webhook several times for one DELETE (graceful update, then the removal); once a write has
     * missed the budget, the next call for the same pod answers at once instead of waiting the budget again, so a
     * deletion is not held for a multiple of the budget while the API server is out of reach.
     */
    private final Map<String, CompletableFuture<ReserveResult>> pendingAfterFailOpen = new ConcurrentHashMap<>();

    public PodIpReservationWebhook(ClusterView cluster, ReservationLedger ledger, Supplier<WebhookPolicy> policy,
                                   Function<JsonNode, PodFacts> podReader, PodConfirmation confirmation,
                                   WebhookMetrics metrics, Clock clock) {
        this(cluster, ledger, policy, podReader, confirmation, metrics, clock, Runnable::run);
    }

    public PodIpReservationWebhook(ClusterView cluster, ReservationLedger ledger, Supplier<WebhookPolicy> policy,
                                   Function<JsonNode, PodFacts> podReader, PodConfirmation confirmation,
                                   WebhookMetrics metrics, Clock clock, Executor answers) {
        this.answers = answers;
        this.cluster = cluster;
        this.ledger = ledger;
        this.policy = policy;
        this.podReader = podReader;
        this.confirmation = confirmation;
        this.metrics = metrics;
        this.clock = clock;
    }

    /**
     * Answers one AdmissionReview; throws {@link BadAdmissionRequestException} for a body it cannot read. The answer
     * completes when the reservation write did, or when the budget ran out: no thread waits for it here (Camel's
     * bean component completes the exchange when the returned stage does).
     */
    public CompletableFuture<String> review(String body) {
        return review(body, "unknown");
    }

    /** As {@link #review(String)}, naming the caller's address in the log when its review is not confirmed. */
    public CompletableFuture<String> review(String body, String remoteAddress) {
        long start = System.nanoTime();
        // one budget for the whole call: lookups and the write share it
        long deadline = start + policy.get().budget().toNanos();
        AdmissionRequest request;
        try {
            request = AdmissionReviews.parse(body);
        } catch (BadAdmissionRequestException e) {
            metrics.request("unknown", AdmissionOutcome.BAD_REQUEST.label(), System.nanoTime() - start);
            throw e;
        }
        Answer answer;
        try {
            answer = decide(request, remoteAddress, deadline);
        } catch (BadAdmissionRequestException e) {
            metrics.request(request.operationLabel(), AdmissionOutcome.BAD_REQUEST.label(), System.nanoTime() - start);
            throw e;
        }
        return answer.completion().thenApply(done -> {
            metrics.request(request.operationLabel(), done.decision().outcome().label(), System.nanoTime() - start);
            return done.decision().render(request);
        });
    }

    /** An answer, or (for a write under way) the answer to come. */
    record Answer(Decision decision, CompletableFuture<Answer> later) {
        Answer(Decision decision) {
            this(decision, null);
        }

        static Answer allow(AdmissionOutcome outcome) {
            return new Answer(Decision.allow(outcome));
        }

        static Answer later(CompletableFuture<Answer> later) {
            return new Answer(null, later);
        }

        CompletableFuture<Answer> completion() {
            return later != null ? later : CompletableFuture.completedFuture(this);
        }
    }

    Answer decide(AdmissionRequest request) {
        return decide(request, "unknown");
    }

    Answer decide(AdmissionRequest request, String remoteAddress) {
        return decide(request, remoteAddress, System.nanoTime() + policy.get().budget().toNanos());
    }

    /** @param deadline the {@link System#nanoTime()} by which the answer is due: lookups and the write share it */
    Answer decide(AdmissionRequest request, String remoteAddress, long deadline) {
        if (!request.isPodDelete() && !request.isPodEviction()) {
            return Answer.allow(AdmissionOutcome.NOT_HANDLED);
        }
        Optional<NamespaceFacts> namespace = cluster.namespace(request.namespace());
        if (namespace.isPresent() && namespace.get().terminating()) {
            return Answer.allow(AdmissionOutcome.NAMESPACE_TERMINATING);
        }
        WebhookPolicy current = policy.get();
        Optional<PodFacts> pod;
        if (request.oldObject() != null) {
            pod = Optional.ofNullable(AdmissionReviews.readPod(request.oldObject(), podReader));
        } else {
            pod = cluster.pod(request.namespace(), request.name());
            if (pod.isEmpty() && optedIn(current, namespace)) {
                // an eviction carries no pod: a miss (informer still listing, or lagging) is asked of the API server
                try {
                    pod = confirmation.get(request.namespace(), request.name(), left(deadline));
                } catch (PodLookup.LookupFailedException e) {
                    return lookupFailed(request, current, e.getMessage());
                }
            }
        }
        if (pod.isEmpty()) {
            LOG.debug("pod {} not known, nothing to park", request.podKey());
            return Answer.allow(AdmissionOutcome.POD_UNKNOWN);
        }
        Selection.Verdict verdict = Selection.evaluate(current.selection(), namespace.orElse(null), pod.get());
        if (!verdict.selected()) {
            LOG.debug("pod {} skipped: {}", request.podKey(), verdict.why());
            return Answer.allow(AdmissionOutcome.SKIPPED);
        }
        List<String> cidrs = cidrsOf(pod.get());
        if (cidrs.isEmpty()) {
            return Answer.allow(AdmissionOutcome.SKIPPED);
        }
        if (request.dryRun()) {
            return Answer.allow(AdmissionOutcome.DRY_RUN);
        }
        if (request.oldObject() != null) {
            Optional<Answer> unconfirmed = confirm(request, pod.get(), cidrs, current, remoteAddress, deadline);
            if (unconfirmed.isPresent()) {
                return unconfirmed.get();
            }
        }
        return reserve(request, pod.get(), cidrs, verdict, current, deadline);
    }

    private static boolean optedIn(WebhookPolicy current, Optional<NamespaceFacts> namespace) {
        return namespace.isPresent() && current.selection().namespaceLabelValue()
                .equals(namespace.get().labels().get(current.selection().namespaceLabelKey()));
    }

    /** What is left of the call's budget (zero once it ran out). */
    private static Duration left(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    /**
     * Only what the cluster confirms is written (an eviction's pod comes from the cache: it is the cluster's). An
     * unconfirmed review is allowed without writing: a forged review's answer goes back to the forger, and a real
     * deletion's pod is always there while it is admitted; the backstop would still park it once it is gone.
     */
    private Optional<Answer> confirm(AdmissionRequest request, PodFacts pod, List<String> cidrs, WebhookPolicy current,
                                     String remoteAddress, long deadline) {
        PodConfirmation.Result result;
        try {
            result = confirmation.confirm(request.namespace(), request.name(), pod, left(deadline));
        } catch (PodLookup.LookupFailedException e) {
            return Optional.of(failed(request, pod, cidrs, current, pod.containersGone() || pod.terminal(),
                    "the pod could not be confirmed: " + e.getMessage()));
        }
        if (result.confirmed()) {
            return Optional.empty();
        }
        metrics.unconfirmed(result.reason());
        LOG.warn("review {} from {} for pod {} is not confirmed by the cluster ({}); allowed, nothing parked",
                request.uid(), remoteAddress, request.podKey(), result.detail());
        return Optional.of(Answer.allow(AdmissionOutcome.UNCONFIRMED));
    }

    private Answer reserve(AdmissionRequest request, PodFacts pod, List<String> cidrs, Selection.Verdict verdict,
                           WebhookPolicy current, long deadline) {
        try (PodLogContext ignored = PodLogContext.of(pod.namespace(), pod.name(), String.join(",", cidrs))) {
            return write(request, pod, cidrs, verdict, current, deadline);
        }
    }

    private Answer write(AdmissionRequest request, PodFacts pod, List<String> cidrs, Selection.Verdict verdict,
                         WebhookPolicy current, long deadline) {
        Instant now = clock.instant();
        // a pod whose containers are gone has already lost its sandbox: its time to live starts now
        boolean alreadyGone = pod.containersGone() || pod.terminal();
        String reason = request.isPodDelete() ? ReservationReason.DELETE : ReservationReason.EVICTION;
        ReservationRequest reservation = new ReservationRequest(pod.namespace(), pod.name(), pod.uid(), pod.node(),
                cidrs, reason, now, alreadyGone ? now : null, verdict.ttl());
        boolean failsOpen = !current.denyOnFailure() || alreadyGone;
        CompletableFuture<ReserveResult> earlier = pendingAfterFailOpen.get(pod.uid());
        if (failsOpen && earlier != null && !earlier.isDone()) {
            return failed(request, pod, cidrs, current, alreadyGone, "an earlier write for this pod is still pending");
        }
        CompletableFuture<ReserveResult> write;
        try {
            write = ledger.reserve(reservation);
        } catch (RuntimeException e) {
            return failed(request, pod, cidrs, current, alreadyGone, Failures.describe(e));
        }
        // a dependent stage times out, never the write itself: it stays queued and lands; what the lookups left
        CompletableFuture<Answer> answer = write.thenApply(Function.identity())
                .orTimeout(left(deadline).toNanos(), TimeUnit.NANOSECONDS)
                .handleAsync((result, error) -> {
                    try (PodLogContext ignored = PodLogContext.of(pod.namespace(), pod.name(), String.join(",", cidrs))) {
                        return answer(request, pod, cidrs, current, alreadyGone, failsOpen, write, result, error);
                    }
                }, answers);
        return Answer.later(answer);
    }

    private Answer answer(AdmissionRequest request, PodFacts pod, List<String> cidrs, WebhookPolicy current,
                          boolean alreadyGone, boolean failsOpen, CompletableFuture<ReserveResult> write,
                          ReserveResult result, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof TimeoutException) {
            if (failsOpen) {
                pendingAfterFailOpen.put(pod.uid(), write);
                write.whenComplete((r, e) -> pendingAfterFailOpen.remove(pod.uid(), write));
            }
            return failed(request, pod, cidrs, current, alreadyGone,
                    "the write did not complete within " + current.budget().toMillis() + " ms");
        }
        if (cause != null) {
            return failed(request, pod, cidrs, current, alreadyGone, Failures.describe(cause));
        }
        if (result.added() > 0) {
            String reason = request.isPodDelete() ? ReservationReason.DELETE : ReservationReason.EVICTION;
            metrics.reserved(reason, result.added());
            LOG.info("parked IP {} of pod {} ({})", String.join(",", cidrs), pod.key(), reason);
            return Answer.allow(AdmissionOutcome.RESERVED);
        }
        return Answer.allow(AdmissionOutcome.ALREADY_RESERVED);
    }

    /** The API server could not say whether an evicted pod exists: as a failed write, per the failure mode. */
    private Answer lookupFailed(AdmissionRequest request, WebhookPolicy current, String cause) {
        if (!current.denyOnFailure()) {
            LOG.warn("could not read pod {} ({}); allowing the {} as configured", request.podKey(), cause,
                    request.operationLabel());
            return new Answer(Decision.failedOpen("capo could not read pod " + request.podKey() + " to park its IP: "
                    + cause));
        }
        LOG.warn("could not read pod {} ({}); refusing the {} so its address cannot be re-issued", request.podKey(),
                cause, request.operationLabel());
        return refused(request, "read pod " + request.podKey() + " to park its IP", cause);
    }

    private Answer failed(AdmissionRequest request, PodFacts pod, List<String> cidrs, WebhookPolicy current,
                          boolean alreadyGone, String cause) {
        String ips = String.join(",", cidrs);
        if (!current.denyOnFailure() || alreadyGone) {
            // the write stays queued; the event backstop also parks the address once the pod is gone
            LOG.warn("could not park IP {} of pod {} in time ({}); allowing the {} as configured", ips, pod.key(),
                    cause, request.operationLabel());
            return new Answer(Decision.failedOpen("capo could not park IP " + ips + " yet: " + cause));
        }
        LOG.warn("could not park IP {} of pod {} ({}); refusing the {} so the address cannot be re-issued",
                ips, pod.key(), cause, request.operationLabel());
        return refused(request, "park IP " + ips + " of pod " + pod.key(), cause);
    }

    private static Answer refused(AdmissionRequest request, String what, String cause) {
        return new Answer(Decision.deny("capo could not " + what + " (" + cause + "); the "
                + request.operationLabel() + " is refused so the address is not re-issued to another pod; retry shortly"));
    }

    static List<String> cidrsOf(PodFacts pod) {
        List<String> cidrs = new ArrayList<>();
        for (String ip : pod.ips()) {
            Optional<String> cidr = Cidrs.tryNormalize(ip);
            if (cidr.isEmpty()) {
                LOG.warn("pod {} reports IP '{}' that cannot be parked; ignoring it", pod.key(), ip);
            } else if (!cidrs.contains(cidr.get())) {
                cidrs.add(cidr.get());
            }
        }
        return cidrs;
    }
}
