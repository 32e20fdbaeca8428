package io.capo.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capo.reservation.SelectorRequirement;
import io.capo.informers.PodFactsMapper;
import io.capo.reservation.FixedClusterView;
import io.capo.reservation.InMemoryLedger;
import io.capo.reservation.NamespaceFacts;
import io.capo.reservation.PodFacts;
import io.capo.reservation.Reservation;
import io.capo.reservation.ReserveResult;
import io.capo.reservation.SelectionPolicy;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class PodIpReservationWebhookTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
    static final SelectionPolicy SELECTION = new SelectionPolicy("ip-reserve", "enabled", List.of(
            SelectorRequirement.exists("statefulset.kubernetes.io/pod-name"), SelectorRequirement.exists("brokerId")),
            true);

    final FixedClusterView cluster = new FixedClusterView()
            .with(new NamespaceFacts("kafka", Map.of("ip-reserve", "enabled"), false));
    final InMemoryLedger ledger = new InMemoryLedger();
    final AtomicReference<WebhookPolicy> policy = new AtomicReference<>(
            new WebhookPolicy(SELECTION, true, Duration.ofMillis(300)));
    final Map<String, Integer> requests = new java.util.concurrent.ConcurrentHashMap<>();
    /** The cluster confirms every pod unless a test says otherwise. */
    PodConfirmation confirmation = new PodConfirmation() {
        @Override
        public Result confirm(String namespace, String name, PodFacts claimed, Duration budget) {
            return Result.CONFIRMED;
        }

        @Override
        public java.util.Optional<PodFacts> get(String namespace, String name, Duration budget) {
            return java.util.Optional.empty();
        }
    };
    final Map<String, Integer> unconfirmed = new java.util.concurrent.ConcurrentHashMap<>();
    PodIpReservationWebhook webhook;

    @BeforeEach
    void setUp() {
        webhook = new PodIpReservationWebhook(cluster, ledger, policy::get,
                node -> PodFactsMapper.from(SERIALIZATION.convertValue(node, Pod.class)),
                new PodConfirmation() {
                    @Override
                    public Result confirm(String namespace, String name, PodFacts claimed, Duration budget) {
                        return confirmation.confirm(namespace, name, claimed, budget);
                    }

                    @Override
                    public java.util.Optional<PodFacts> get(String namespace, String name, Duration budget) {
                        return confirmation.get(namespace, name, budget);
                    }
                },
                new WebhookMetrics() {
            @Override
            public void request(String operation, String result, long nanos) {
                requests.merge(operation + "/" + result, 1, Integer::sum);
            }

            @Override
            public void reserved(String reason, int count) {
            }

            @Override
            public void unconfirmed(String reason) {
                unconfirmed.merge(reason, 1, Integer::sum);
            }
        }, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    static String fixture(String name) throws IOException {
        try (InputStream in = PodIpReservationWebhookTest.class.getResourceAsStream("/admission/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static ObjectNode fixtureTree(String name) throws IOException {
        return (ObjectNode) JSON.readTree(fixture(name));
    }

    static JsonNode response(String body) throws IOException {
        return JSON.readTree(body);
    }

    PodFacts cachedPod() throws IOException {
        Pod pod = SERIALIZATION.convertValue(fixtureTree("delete-pod.json").at("/request/oldObject"), Pod.class);
        return PodFactsMapper.from(pod);
    }

    @Test
    void deleteOfSelectedPodParksEveryIpAndEchoesTheRequest() throws IOException {
        JsonNode answer = response(webhook.review(fixture("delete-pod.json")).join());

        assertThat(answer.path("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
        assertThat(answer.path("kind").asText()).isEqualTo("AdmissionReview");
        assertThat(answer.at("/response/uid").asText()).isEqualTo("705ab4f5-6393-11e8-b7cc-42010a800002");
        assertThat(answer.at("/response/allowed").asBoolean()).isTrue();
        assertThat(ledger.entries).containsOnlyKeys("10.244.1.17/32", "fd00:10:244:1::17/128");
        Reservation entry = ledger.entries.get("10.244.1.17/32");
        assertThat(entry.namespace()).isEqualTo("kafka");
        assertThat(entry.pod()).isEqualTo("kafka-0");
        assertThat(entry.uid()).isEqualTo("4b1e3c2a-0000-4000-8000-000000000001");
        assertThat(entry.node()).isEqualTo("node-1");
        assertThat(entry.reason()).isEqualTo("delete");
        assertThat(entry.reservedAt()).isEqualTo(NOW);
        assertThat(entry.goneAt()).isNull();
        assertThat(requests).containsEntry("delete/reserved", 1);
    }

    @Test
    void forgedReviewForAPodTheClusterDoesNotHaveWritesNothing() throws IOException {
        confirmation = new ClusterPodConfirmation(cluster,
                (namespace, name) -> CompletableFuture.completedFuture(java.util.Optional.empty()));

        JsonNode answer = response(webhook.review(fixture("delete-pod.json"), "10.9.9.9:41000").join());

        assertThat(answer.at("/response/allowed").asBoolean()).isTrue();
        assertThat(ledger.entries).isEmpty();
        assertThat(ledger.writes.get()).isZero();
        assertThat(requests).containsEntry("delete/unconfirmed", 1);
        assertThat(unconfirmed).containsEntry("not-found", 1);
    }

    @Test
    void reviewWhoseUidDiffersFromTheCachedPodWritesNothing() throws IOException {
        PodFacts cached = cachedPod();
        cluster.with(new PodFacts(cached.namespace(), cached.name(), "another-uid", cached.node(), cached.labels(),
                cached.annotations(), cached.ips(), cached.phase(), cached.statusReason(), false, false, null, null));
        // the API server says the same as the cache
        confirmation = new ClusterPodConfirmation(cluster,
                (namespace, name) -> CompletableFuture.completedFuture(cluster.pod(namespace, name)));

        webhook.review(fixture("delete-pod.json")).join();

        assertThat(ledger.entries).isEmpty();
        assertThat(unconfirmed).containsEntry("uid", 1);
    }

    @Test
    void podConfirmedByTheCacheIsParkedWithoutAskingTheApiServer() throws IOException {
        cluster.with(cachedPod());
        confirmation = new ClusterPodConfirmation(cluster, (namespace, name) -> {
            throw new AssertionError("no GET when the cache confirms");
        });

        webhook.review(fixture("delete-pod.json")).join();

        assertThat(ledger.entries).containsKey("10.244.1.17/32");
    }

    @Test
    void aLookupThatFailsIsAWriteFailure() throws IOException {
        confirmation = new ClusterPodConfirmation(cluster, (namespace, name) -> new CompletableFuture<>());

        JsonNode answer = response(webhook.review(fixture("delete-pod.json")).join());

        assertThat(answer.at("/response/allowed").asBoolean()).as("deny mode").isFalse();
        assertThat(answer.at("/response/status/message").asText()).contains("could not be confirmed");
        assertThat(ledger.writes.get()).isZero();
    }

    @Test
    void secondDeleteOfAGracefulDeletionWritesNothing() throws IOException {
        webhook.review(fixture("delete-pod.json")).join();
        JsonNode again = response(webhook.review(fixture("delete-pod.json")).join());

        assertThat(again.at("/response/allowed").asBoolean()).isTrue();
        assertThat(ledger.writes.get()).isEqualTo(1);
        assertThat(requests).containsEntry("delete/already-reserved", 1);
    }

    @Test
    void evictionTakesThePodFromTheCache() throws IOException {
        cluster.with(cachedPod());
        JsonNode answer = response(webhook.review(fixture("evict-pod.json")).join());

        assertThat(answer.at("/response/allowed").asBoolean()).isTrue();
        assertThat(ledger.entries.get("10.244.1.17/32").reason()).isEqualTo("eviction");
        // drain retries every 5 s: the retries write nothing more
        webhook.review(fixture("evict-pod.json")).join();
        assertThat(ledger.writes.get()).isEqualTo(1);
    }

    @Test
    void evictionOfAPodTheApiServerDoesNotHaveIsAllowed() throws IOException {
        java.util.concurrent.atomic.AtomicInteger gets = new java.util.concurrent.atomic.AtomicInteger();
        confirmation = new ClusterPodConfirmation(cluster, (namespace, name) -> {
            gets.incrementAndGet();
            return CompletableFuture.completedFuture(java.util.Optional.empty());
        });
        JsonNode answer = response(webhook.review(fixture("evict-pod.json")).join());
        assertThat(answer.at("/response/allowed").asBoolean()).isTrue();
        assertThat(ledger.entries).isEmpty();
        assertThat(gets.get()).as("the miss was asked of the API server").isEqualTo(1);
        assertThat(requests).containsEntry("eviction/pod-unknown", 1);
    }

    @Test
    void evictionOfAPodTheCacheDoesNotKnowYetIsParkedFromOneGet() throws IOException {
        // the namespace was opted in a moment ago: its informer is still listing
        cluster.unsynced.add("kafka");
        PodFacts live = cachedPod();
        confirmation = new ClusterPodConfirmation(cluster,
                (namespace, name) -> CompletableFuture.completedFuture(java.util.Optional.of(live)));

        JsonNode answer = response(webhook.review(fixture("evict-pod.json")).join());

        assertThat(answer.at("/response/allowed").asBoolean()).isTrue();
        assertThat(ledger.entries.get("10.244.1.17/32").reason()).isEqualTo("eviction");
    }

    @Test
    void evictionWhosePodCannotBeReadIsDeniedInDenyMode() throws IOException {
        confirmation = new ClusterPodConfirmation(cluster, (namespace, name) -> new CompletableFuture<>());

        JsonNode answer = response(webhook.review(fixture("evict-pod.json")).join());

        assertThat(answer.at("/response/allowed").asBoolean()).isFalse();
        assertThat(answer.at("/response/status/code").asInt()).isEqualTo(429);
        assertThat(answer.at("/response/status/message").asText()).contains("could not read pod kafka/kafka-0");
        assertThat(ledger.writes.get()).isZero();
    }

    @Test
    void evictionWhosePodCannotBeReadIsAllowedWithAWarningInAllowMode() throws IOException {
        policy.set(new WebhookPolicy(SELECTION, false, Duration.ofMillis(300)));
        confirmation = new ClusterPodConfirmation(cluster,
                (namespace, name) -> CompletableFuture.failedFuture(new IllegalStateException("API server down")));

        JsonNode answer = response(webhook.review(fixture("evict-pod.json")).join());

        assertThat(answer.at("/response/allowed").asBoolean()).isTrue();
        assertThat(answer.at("/response/warnings/0").asText()).contains("could not read pod").contains("down");
        assertThat(requests).containsEntry("eviction/failed-open", 1);
    }

    @Test
    void evictionInANamespaceNotOptedInAsksNothing() throws IOException {
        cluster.with(new NamespaceFacts("kafka", Map.of(), false));
        confirmation = new ClusterPodConfirmation(cluster, (namespace, name) -> {
            throw new AssertionError("no GET for a namespace Capo does not watch");
        });

        JsonNode answer = response(webhook.review(fixture("evict-pod.json")).join());

        assertThat(answer.at("/response/allowed").asBoolean()).isTrue();
    }

    @Test
    void aSlowLookupAndASlowWriteShareOneBudget() throws IOException {
        policy.set(new WebhookPolicy(SELECTION, true, Duration.ofMillis(1_000)));
        PodFacts live = cachedPod();
        // the cache does not know the pod: confirming the deletion takes one GET, which answers late
        confirmation = new ClusterPodConfirmation(cluster, (namespace, name) -> CompletableFuture.supplyAsync(
                () -> java.util.Optional.of(live),
                CompletableFuture.delayedExecutor(700, java.util.concurrent.TimeUnit.MILLISECONDS)));
        ledger.stall = new CompletableFuture<>();

        long start = System.nanoTime();
        JsonNode answer = response(webhook.review(fixture("delete-pod.json")).join());
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(answer.at("/response/allowed").asBoolean()).isFalse();
        assertThat(answer.at("/response/status/message").asText()).contains("did not complete");
        // one budget (1 s), not the GET's 0.7 s and then a fresh 1 s for the write
        assertThat(took).isLessThan(Duration.ofMillis(1_500));
    }

    @Test
    void dryRunNeverWrites() throws IOException {
        ObjectNode review = fixtureTree("delete-pod.json");
        ((ObjectNode) review.get("request")).put("dryRun", true);
        JsonNode answer = response(webhook.review(review.toString()).join());

        assertThat(answer.at("/response/allowed").asBoolean()).isTrue();
        assertThat(ledger.entries).isEmpty();
    }

    @Test
    void namespaceBeingDeletedIsAllowedWithoutWriting() throws IOException {
        cluster.with(new NamespaceFacts("kafka", Map.of("ip-reserve", "enabled"), true));
        assertThat(response(webhook.review(fixture("delete-pod.json")).join()).at("/response/allowed").asBoolean()).isTrue();
        assertThat(ledger.entries).isEmpty();
    }

    @Test
    void podNotSelectedIsAllowedWithoutWriting() throws IOException {
        ObjectNode review = fixtureTree("delete-pod.json");
        ((ObjectNode) review.at("/request/oldObject/metadata")).putObject("labels").put("app", "web");
        assertThat(response(webhook.review(review.toString()).join()).at("/response/allowed").asBoolean()).isTrue();
        assertThat(ledger.entries).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"CREATE", "UPDATE", "CONNECT"})
    void otherOperationsAreAllowedUntouched(String operation) throws IOException {
        ObjectNode review = fixtureTree("delete-pod.json");
        ((ObjectNode) review.get("request")).put("operation", operation);
        JsonNode answer = response(webhook.review(review.toString()).join());
        assertThat(answer.at("/response/allowed").asBoolean()).isTrue();
        assertThat(answer.at("/response/status").isMissingNode()).isTrue();
        assertThat(ledger.entries).isEmpty();
        assertThat(requests).containsEntry("other/not-handled", 1);
    }

    @Test
    void deleteOfAnotherResourceIsAllowedUntouched() throws IOException {
        ObjectNode review = fixtureTree("delete-pod.json");
        ((ObjectNode) review.at("/request/resource")).put("resource", "configmaps");
        assertThat(response(webhook.review(review.toString()).join()).at("/response/allowed").asBoolean()).isTrue();
        assertThat(ledger.entries).isEmpty();
    }

    @Test
    void failedWriteDeniesInDenyModeWithARetryableStatus() throws IOException {
        ledger.stall = CompletableFuture.failedFuture(new IllegalStateException("API server unavailable"));
        JsonNode answer = response(webhook.review(fixture("delete-pod.json")).join());

        assertThat(answer.at("/response/allowed").asBoolean()).isFalse();
        assertThat(answer.at("/response/status/code").asInt()).isEqualTo(429);
        assertThat(answer.at("/response/status/message").asText())
                .contains("10.244.1.17/32").contains("kafka/kafka-0").contains("API server unavailable");
    }

    @Test
    void slowWriteAnswersWithinTheBudget() throws IOException {
        ledger.stall = new CompletableFuture<>();
        String body = fixture("delete-pod.json");
        JsonNode answer = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> response(webhook.review(body).join()));
        assertThat(answer.at("/response/allowed").asBoolean()).isFalse();
        assertThat(answer.at("/response/status/message").asText()).contains("did not complete within 300 ms");
    }

    @Test
    void noThreadWaitsForTheWrite() throws IOException {
        CompletableFuture<ReserveResult> stalled = new CompletableFuture<>();
        ledger.stall = stalled;
        policy.set(new WebhookPolicy(SELECTION, true, Duration.ofSeconds(30)));
        long start = System.nanoTime();
        CompletableFuture<String> answer = webhook.review(fixture("delete-pod.json"));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        assertThat(answer).isNotDone();

        stalled.complete(new ReserveResult(1, 0, 0));
        assertThat(response(answer.join()).at("/response/allowed").asBoolean()).isTrue();
        assertThat(requests).containsEntry("delete/reserved", 1);
    }

    @Test
    void failedWriteAllowsInAllowModeWithAWarning() throws IOException {
        policy.set(new WebhookPolicy(SELECTION, false, Duration.ofMillis(300)));
        ledger.stall = new CompletableFuture<>();
        JsonNode answer = response(webhook.review(fixture("delete-pod.json")).join());

        assertThat(answer.at("/response/allowed").asBoolean()).isTrue();
        assertThat(answer.at("/response/warnings/0").asText()).contains("could not park");
        assertThat(requests).containsEntry("delete/failed-open", 1);
    }

    @Test
    void aRepeatedCallForAPodWhoseWriteMissedTheBudgetInAllowModeAnswersAtOnce() throws IOException {
        policy.set(new WebhookPolicy(SELECTION, false, Duration.ofMillis(300)));
        CompletableFuture<io.capo.reservation.ReserveResult> stalled = new CompletableFuture<>();
        ledger.stall = stalled;
        String body = fixture("delete-pod.json");
        assertThat(response(webhook.review(body).join()).at("/response/allowed").asBoolean()).isTrue();

        // the API server's next call for the same DELETE
        long start = System.nanoTime();
        JsonNode again = response(webhook.review(body).join());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(250));
        assertThat(again.at("/response/allowed").asBoolean()).isTrue();
        assertThat(again.at("/response/warnings/0").asText()).contains("still pending");
        assertThat(requests).containsEntry("delete/failed-open", 2);

        // once that write is done, calls wait for their write again
        stalled.complete(new io.capo.reservation.ReserveResult(1, 0, 0));
        ledger.stall = new CompletableFuture<>();
        start = System.nanoTime();
        webhook.review(body).join();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }

    @Test
    void aRepeatedCallInDenyModeWaitsForTheWriteAgain() throws IOException {
        ledger.stall = new CompletableFuture<>();
        String body = fixture("delete-pod.json");
        webhook.review(body).join();
        long start = System.nanoTime();
        assertThat(response(webhook.review(body).join()).at("/response/allowed").asBoolean()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }

    @Test
    void finalDeleteOfAPodWhoseContainersAreGoneIsNeverDenied() throws IOException {
        ledger.stall = CompletableFuture.failedFuture(new IllegalStateException("down"));
        ObjectNode review = fixtureTree("delete-pod.json");
        ((ObjectNode) review.at("/request/oldObject/status/containerStatuses/0/state")).removeAll()
                .putObject("terminated").put("exitCode", 0).put("finishedAt", "2026-11-26T11:59:00Z");
        assertThat(response(webhook.review(review.toString()).join()).at("/response/allowed").asBoolean()).isTrue();
    }

    @Test
    void podWhoseContainersAreGoneStartsItsTtlAtOnce() throws IOException {
        ObjectNode review = fixtureTree("delete-pod.json");
        ((ObjectNode) review.at("/request/oldObject/status/containerStatuses/0/state")).removeAll()
                .putObject("terminated").put("exitCode", 0).put("finishedAt", "2026-11-26T11:59:00Z");
        webhook.review(review.toString()).join();
        assertThat(ledger.entries.get("10.244.1.17/32").goneAt()).isEqualTo(NOW);
    }

    @Test
    void badInputIsRefusedWithAClearMessage() {
        assertThatThrownBy(() -> webhook.review("not json").join()).isInstanceOf(BadAdmissionRequestException.class)
                .hasMessageContaining("not JSON");
        assertThatThrownBy(() -> webhook.review("").join()).hasMessageContaining("empty body");
        assertThatThrownBy(() -> webhook.review("[1,2]").join()).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> webhook.review("{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}").join())
                .hasMessageContaining("expected AdmissionReview");
        assertThatThrownBy(() -> webhook.review(
                "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"operation\":\"DELETE\"}}").join())
                .hasMessageContaining("request.uid is missing");
        assertThatThrownBy(() -> webhook.review("{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\"}").join())
                .hasMessageContaining("request is missing");
        assertThatThrownBy(() -> webhook.review(" ".repeat(10) + "x".repeat(AdmissionReviews.MAX_BODY_BYTES)).join())
                .hasMessageContaining("exceeds");
        assertThat(requests).containsEntry("unknown/bad-request", 7);
    }

    @Test
    void unparkableAddressesAreSkipped() throws IOException {
        ObjectNode review = fixtureTree("delete-pod.json");
        ObjectNode status = (ObjectNode) review.at("/request/oldObject/status");
        status.put("podIP", "0.0.0.0");
        status.putArray("podIPs").addObject().put("ip", "0.0.0.0");
        assertThat(response(webhook.review(review.toString()).join()).at("/response/allowed").asBoolean()).isTrue();
        assertThat(ledger.entries).isEmpty();
        assertThat(ReserveResult.NOTHING.added()).isZero();
    }
}
