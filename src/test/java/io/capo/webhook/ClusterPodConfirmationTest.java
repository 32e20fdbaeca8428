package io.capo.webhook;

import io.capo.reservation.FixedClusterView;
import io.capo.reservation.PodFacts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClusterPodConfirmationTest {

    static final Duration BUDGET = Duration.ofMillis(200);

    static PodFacts pod(String uid, String... ips) {
        return new PodFacts("kafka", "kafka-0", uid, "node-1", Map.of(), Map.of(), List.of(ips), "Running", "", false,
                false, null, null);
    }

    final FixedClusterView cache = new FixedClusterView();
    final AtomicInteger gets = new AtomicInteger();
    Optional<PodFacts> apiServer = Optional.empty();
    final ClusterPodConfirmation confirmation = new ClusterPodConfirmation(cache, (ns, name) -> {
        gets.incrementAndGet();
        return CompletableFuture.completedFuture(apiServer);
    });

    @ParameterizedTest(name = "cache {0}/{1}, API server {2}/{3}: {4}")
    @CsvSource({
            // cached uid, cached ips, api uid, api ips, expected reason ('' = confirmed), GETs
            "u1, 10.0.0.1,   -,  -,        '',        0",
            "u1, 10.0.0.1 fd00::1, -, -,   '',        0",
            "-,  -,          u1, 10.0.0.1, '',        1",
            "-,  -,          -,  -,        not-found, 1",
            "u2, 10.0.0.1,   u2, 10.0.0.1, uid,       1",
            "u1, 10.0.0.9,   u1, 10.0.0.9, ip,        1",
            "u1, '',         u1, 10.0.0.1, '',        1",
            "u2, 10.0.0.1,   -,  -,        not-found, 1",
    })
    void confirmsWhatTheCacheOrOneGetSays(String cachedUid, String cachedIps, String apiUid, String apiIps,
                                          String reason, int expectedGets) {
        if (!"-".equals(cachedUid)) {
            cache.with(pod(cachedUid, split(cachedIps)));
        }
        if (!"-".equals(apiUid)) {
            apiServer = Optional.of(pod(apiUid, split(apiIps)));
        }

        PodConfirmation.Result result = confirmation.confirm("kafka", "kafka-0", pod("u1", "10.0.0.1"), BUDGET);

        assertThat(result.confirmed()).isEqualTo(reason.isEmpty());
        assertThat(result.reason()).isEqualTo(reason);
        assertThat(gets.get()).isEqualTo(expectedGets);
    }

    static String[] split(String ips) {
        return ips == null || ips.isBlank() ? new String[0] : ips.trim().split("\\s+");
    }

    @Test
    void anOldObjectNamingAnotherPodIsNotConfirmed() {
        cache.with(pod("u1", "10.0.0.1"));

        PodConfirmation.Result result = confirmation.confirm("kafka", "kafka-1", pod("u1", "10.0.0.1"), BUDGET);

        assertThat(result.reason()).isEqualTo("name");
        assertThat(gets.get()).isZero();
    }

    @Test
    void aGetThatDoesNotAnswerInTimeFails() {
        ClusterPodConfirmation slow = new ClusterPodConfirmation(cache, (ns, name) -> new CompletableFuture<>());

        assertThatThrownBy(() -> slow.confirm("kafka", "kafka-0", pod("u1", "10.0.0.1"), BUDGET))
                .isInstanceOf(PodLookup.LookupFailedException.class).hasMessageContaining("200 ms");
    }
}
