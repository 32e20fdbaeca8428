package io.capo.runtime;

import io.capo.informers.PodFactsMapper;
import io.capo.reservation.ClusterView;
import io.capo.reservation.NamespaceFacts;
import io.capo.reservation.PodFacts;
import io.capo.reservation.ReservationLedger;
import io.capo.reservation.ReservationRequest;
import io.capo.reservation.ReserveResult;
import io.capo.reservation.Reservation;
import io.capo.reservation.Selection;
import io.capo.reservation.SelectionPolicy;
import io.capo.webhook.PodConfirmation;
import io.capo.webhook.PodIpReservationWebhook;
import io.capo.webhook.WebhookMetrics;
import io.capo.webhook.WebhookPolicy;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the admission path a few thousand times on a private, in-memory cluster view before Capo reports
 * ready, so that the first real deletions do not pay for class loading and interpretation.
 */
final class Warmup {

    private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);
    private static final int ROUNDS = 3_000;

    private final KubernetesClient client;
    private volatile boolean done;
    /** Warm-up reviews that reached the ledger, i.e. took the path of a selected pod. */
    private final AtomicInteger reserved = new AtomicInteger();

    Warmup(KubernetesClient client) {
        this.client = client;
    }

    boolean done() {
        return done;
    }

    /** How many warm-up reviews were reserved (the write path was warmed); for tests and the log. */
    int reserved() {
        return reserved.get();
    }

    void run(SelectionPolicy selection) {
        long start = System.nanoTime();
        try {
            // a namespace and a pod the configured selection selects: a custom namespace label or pod selector
            // must warm the write path as the defaults do
            String podMetadata = podMetadata(selection);
            PodIpReservationWebhook webhook = new PodIpReservationWebhook(new FixedView(selection),
                    new NullLedger(reserved),
                    () -> new WebhookPolicy(selection, true, Duration.ofSeconds(1)),
                    node -> PodFactsMapper.from(client.getKubernetesSerialization().convertValue(node, Pod.class)),
                    new PodConfirmation() {
                        @Override
                        public PodConfirmation.Result confirm(String namespace, String name, PodFacts claimed,
                                                              Duration budget) {
                            return PodConfirmation.Result.CONFIRMED;
                        }

                        @Override
                        public Optional<PodFacts> get(String namespace, String name, Duration budget) {
                            // warm-up reviews are deletions: they carry their pod
                            return Optional.empty();
                        }
                    },
                    new WebhookMetrics() {
                        @Override
                        public void request(String operation, String result, long nanos) {
                        }

                        @Override
                        public void reserved(String reason, int count) {
                        }
                    }, Clock.systemUTC());
            for (int i = 0; i < ROUNDS; i++) {
                webhook.review(review(i, podMetadata)).join();
            }
            LOG.info("webhook path warmed up in {} ms ({} of {} reviews reserved)",
                    (System.nanoTime() - start) / 1_000_000, reserved.get(), ROUNDS);
        } catch (RuntimeException e) {
            LOG.warn("warm-up failed, continuing cold: {}", e.toString());
        } finally {
            done = true;
        }
    }

    /** The labels (and, when no labels can satisfy the selector, the opt-in annotation) of the warm-up pod. */
    static String podMetadata(SelectionPolicy selection) {
        Optional<Map<String, String>> labels = Selection.sampleLabels(selection);
        StringBuilder json = new StringBuilder("\"labels\":{");
        // label keys and values are validated names: nothing in them needs escaping
        String separator = "";
        for (Map.Entry<String, String> label : labels.orElse(Map.of()).entrySet()) {
            json.append(separator).append('"').append(label.getKey()).append("\":\"").append(label.getValue())
                    .append('"');
            separator = ",";
        }
        json.append('}');
        if (labels.isEmpty()) {
            json.append(",\"annotations\":{\"").append(SelectionPolicy.RESERVE_ANNOTATION).append("\":\"true\"}");
        }
        return json.toString();
    }

    private static String review(int i, String podMetadata) {
        String op = i % 2 == 0 ? "DELETE" : "CREATE";
        String sub = i % 2 == 0 ? "" : "eviction";
        return "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"warmup-" + i
                + "\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"resource\":{\"group\":\"\","
                + "\"version\":\"v1\",\"resource\":\"pods\"},\"subResource\":\"" + sub + "\",\"operation\":\"" + op
                + "\",\"namespace\":\"warmup\",\"name\":\"pod-0\",\"dryRun\":" + (i % 3 == 0)
                + ",\"oldObject\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-0\","
                + "\"namespace\":\"warmup\",\"uid\":\"u-" + i + "\"," + podMetadata + "},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]},"
                + "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0." + (i % 250) + ".1\",\"podIPs\":[{\"ip\":\"10.0."
                + (i % 250) + ".1\"}]}}}}";
    }

    private static final class FixedView implements ClusterView {
        private final Map<String, String> namespaceLabels;

        FixedView(SelectionPolicy selection) {
            this.namespaceLabels = Map.of(selection.namespaceLabelKey(), selection.namespaceLabelValue());
        }

        @Override
        public Optional<PodFacts> pod(String namespace, String name) {
            return Optional.empty();
        }

        @Override
        public Optional<NamespaceFacts> namespace(String name) {
            return Optional.of(new NamespaceFacts(name, namespaceLabels, false));
        }

        @Override
        public List<PodFacts> podsOnNode(String node) {
            return List.of();
        }

        @Override
        public boolean synced() {
            return true;
        }

        @Override
        public boolean podsSynced(String namespace) {
            return true;
        }
    }

    private static final class NullLedger implements ReservationLedger {
        private final AtomicInteger reserved;

        NullLedger(AtomicInteger reserved) {
            this.reserved = reserved;
        }

        @Override
        public CompletableFuture<ReserveResult> reserve(ReservationRequest request) {
            reserved.incrementAndGet();
            return CompletableFuture.completedFuture(new ReserveResult(0, 0, request.cidrs().size()));
        }

        @Override
        public CompletableFuture<Integer> apply(Collection<Reservation> releases, Collection<Reservation> markGone) {
            return CompletableFuture.completedFuture(0);
        }

        @Override
        public int repair(Instant now) {
            return 0;
        }

        @Override
        public Collection<Reservation> held() {
            return List.of();
        }

        @Override
        public Optional<Reservation> find(String cidr) {
            return Optional.empty();
        }

        @Override
        public boolean synced() {
            return true;
        }
    }
}
