package io.capo.events;

import io.capo.logging.Failures;
import io.capo.reservation.Cidrs;
import io.capo.reservation.ClusterView;
import io.capo.reservation.NamespaceFacts;
import io.capo.reservation.PodEvent;
import io.capo.reservation.PodFacts;
import io.capo.reservation.PodLogContext;
import io.capo.reservation.ReservationLedger;
import io.capo.reservation.ReservationReason;
import io.capo.reservation.ReservationRequest;
import io.capo.reservation.ReserveResult;
import io.capo.reservation.Selection;
import io.capo.reservation.SelectionPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Parks what the webhook cannot see: pods that end without a DELETE call (kubelet eviction, node
 * shutdown), selected pods that disappear while unparked (webhook down or bypassed), and the pods of a
 * deleted node. Runs on every replica; the ledger makes repeated work free.
 */
public final class PodEventBackstop {

    private static final Logger LOG = LoggerFactory.getLogger(PodEventBackstop.class);

    private final ClusterView cluster;
    private final ReservationLedger ledger;
    private final Supplier<SelectionPolicy> selection;
    private final Supplier<Duration> recentWindow;
    private final BackstopMetrics metrics;
    private final Clock clock;

    public PodEventBackstop(ClusterView cluster, ReservationLedger ledger, Supplier<SelectionPolicy> selection,
                            Supplier<Duration> recentWindow, BackstopMetrics metrics, Clock clock) {
        this.cluster = cluster;
        this.ledger = ledger;
        this.selection = selection;
        this.recentWindow = recentWindow;
        this.metrics = metrics;
        this.clock = clock;
    }

    /**
     * What to do about one pod change; pure, so the rules can be tested on their own.
     *
     * @param recent a pod already ended when Capo first sees it is parked only if it ended within this
     *               window: evicted pods linger for days, and their address may long be someone else's
     */
    public static Optional<String> decide(String type, PodFacts before, PodFacts pod, Instant now, Duration recent) {
        if ("DELETED".equals(type)) {
            return Optional.of(ReservationReason.LATE);
        }
        if (!pod.terminal() || (before != null && before.terminal())) {
            return Optional.empty();
        }
        boolean endedNow = before != null
                || (pod.endedAt() != null && pod.endedAt().plus(recent).isAfter(now));
        if (endedNow) {
            return Optional.of("Evicted".equals(pod.statusReason()) ? ReservationReason.KUBELET_EVICTION
                    : ReservationReason.POD_TERMINATED);
        }
        return Optional.empty();
    }

    /** A pod was added, changed or deleted. Returns the pending write; the route does not wait for it. */
    public CompletableFuture<ReserveResult> onPodEvent(PodEvent event) {
        return onPodEvent(event.type(), event.before(), event.pod());
    }

    CompletableFuture<ReserveResult> onPodEvent(String type, PodFacts before, PodFacts pod) {
        Instant now = clock.instant();
        Optional<String> reason = decide(type, before, pod, now, recentWindow.get());
        if (reason.isEmpty()) {
            return CompletableFuture.completedFuture(ReserveResult.NOTHING);
        }
        NamespaceFacts namespace = cluster.namespace(pod.namespace()).orElse(null);
        Selection.Verdict verdict = Selection.evaluate(selection.get(), namespace, pod);
        if (!verdict.selected()) {
            return CompletableFuture.completedFuture(ReserveResult.NOTHING);
        }
        // the pod is gone (deleted, or its containers ended): its time to live starts now
        Instant goneAt = before == null && pod.endedAt() != null ? pod.endedAt() : now;
        return reserve(pod, reason.get(), goneAt, verdict);
    }

    /** A node was deleted: park the addresses of its selected pods before the pod GC removes them. */
    public CompletableFuture<ReserveResult> onNodeDeleted(String node) {
        List<CompletableFuture<ReserveResult>> parts = new ArrayList<>();
        SelectionPolicy policy = selection.get();
        for (PodFacts pod : cluster.podsOnNode(node)) {
            if (pod.terminal()) {
                continue;
            }
            Selection.Verdict verdict = Selection.evaluate(policy, cluster.namespace(pod.namespace()).orElse(null), pod);
            if (verdict.selected()) {
                parts.add(reserve(pod, ReservationReason.NODE_DELETED, null, verdict));
            }
        }
        LOG.info("node {} deleted: parking the IPs of {} selected pods", node, parts.size());
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                .thenApply(ignored -> parts.stream().map(CompletableFuture::join)
                        .reduce(ReserveResult.NOTHING, ReserveResult::plus));
    }

    private CompletableFuture<ReserveResult> reserve(PodFacts pod, String reason, Instant goneAt,
                                                     Selection.Verdict verdict) {
        List<String> cidrs = pod.ips().stream().map(Cidrs::tryNormalize).flatMap(Optional::stream).distinct().toList();
        if (cidrs.isEmpty()) {
            return CompletableFuture.completedFuture(ReserveResult.NOTHING);
        }
        ReservationRequest request = new ReservationRequest(pod.namespace(), pod.name(), pod.uid(), pod.node(), cidrs,
                reason, clock.instant(), goneAt, verdict.ttl());
        String ips = String.join(",", cidrs);
        return ledger.reserve(request).whenComplete((result, error) -> {
            try (PodLogContext ignored = PodLogContext.of(pod.namespace(), pod.name(), ips)) {
                if (error != null) {
                    metrics.failure("backstop");
                    LOG.error("could not park IP {} of pod {} ({}): {}", ips, pod.key(), reason,
                            Failures.describe(error));
                } else if (result.added() > 0) {
                    metrics.reserved(reason, result.added());
                    if (ReservationReason.LATE.equals(reason)) {
                        metrics.late(result.added());
                        LOG.warn("pod {} disappeared while IP {} was not parked; parked it late", pod.key(), ips);
                    } else {
                        LOG.info("parked IP {} of pod {} ({})", ips, pod.key(), reason);
                    }
                } else if (result.updated() > 0) {
                    LOG.debug("pod {} is gone; IP {} stays parked from now on", pod.key(), ips);
                }
            }
        });
    }
}
