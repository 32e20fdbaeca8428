package io.capo.it;

import io.capo.calico.CalicoReservationStore;
import io.capo.reservation.ReservationRequest;
import io.capo.testing.CapoInstance;
import io.capo.testing.ConfigMapVolume;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static io.capo.it.ItSupport.metric;
import static io.capo.it.ItSupport.nextIpv4;
import static io.capo.it.ItSupport.statefulPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The adversarial review's case on a real API server: the leader holds more addresses than the default
 * {@code ipReserveMaxCount} (300), all gone longer than the default {@code ipReserveTime} (40m) but shorter than the
 * file's, and the config file is emptied (a truncated write, an empty ConfigMap key), then cut short. Both changes
 * are refused: nothing is released, the config in force stays, and the webhook keeps parking.
 */
class ConfigReloadIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int HELD = 320;
    private static final String FILE = """
            apiVersion: config.capo.io/v1
            kind: CapoConfig
            ipReserveMaxCount: 800
            ipReserveTime: 1h
            failureMode: allow
            """;

    static ItEnvironment env;
    static KubernetesClient client;
    static CapoInstance capo;
    static String ns;
    static ConfigMapVolume config;
    static final ConcurrentLinkedQueue<String> reloaderLog = new ConcurrentLinkedQueue<>();
    static AbstractAppender appender;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        appender = new AbstractAppender("config-reload-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                if (event.getLoggerName().equals("io.capo.config.ConfigReloader")) {
                    reloaderLog.add(event.getLevel() + " " + event.getMessage().getFormattedMessage());
                }
            }
        };
        appender.start();
        context.getRootLogger().addAppender(appender);

        env = new ItEnvironment("config", dir);
        client = env.client();
        ns = env.namespace("kafka", true);
        config = new ConfigMapVolume(dir.resolve("config"), Map.of("capo_config.yaml", FILE));
        capo = env.startCapo(b -> b.configFile(config.dir().resolve("capo_config.yaml")));
        env.registerWebhook(capo, ns);
        env.awaitLeader(List.of(capo), WAIT);
    }

    @AfterAll
    static void stop() {
        if (appender != null) {
            ((LoggerContext) LogManager.getContext(false)).getRootLogger().removeAppender(appender);
            appender.stop();
        }
        if (env != null) {
            env.close();
        }
    }

    static double released() {
        return metric(capo, "capo_releases_total");
    }

    @Test
    void anEmptiedOrTruncatedConfigFileReleasesNothing() throws Exception {
        CalicoReservationStore store = capo.bean("reservationStore", CalicoReservationStore.class);
        Instant goneAt = Instant.now().minus(Duration.ofMinutes(45));
        List<CompletableFuture<?>> writes = new ArrayList<>();
        for (int i = 0; i < HELD; i++) {
            String cidr = "10.77." + (i / 250) + "." + (i % 250 + 1) + "/32";
            writes.add(store.reserve(new ReservationRequest("kafka", "broker-" + i, "uid-" + i, "node-1",
                    List.of(cidr), "delete", goneAt, goneAt, null)));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        await().atMost(WAIT).until(() -> env.reservations().entries().size() == HELD);
        assertThat(metric(capo, "ip_reserve_count")).isEqualTo(HELD);
        assertThat(metric(capo, "ip_reserve_count_max")).isEqualTo(800);
        int logged = reloaderLog.size();

        config.update(Map.of("capo_config.yaml", ""));
        await().atMost(WAIT).until(() -> metric(capo, "capo_config_reload_refused_total", "reason=\"empty\"") == 1);
        // a write cut after the first settings line: valid YAML, but ipReserveTime and failureMode are gone
        config.update(Map.of("capo_config.yaml", FILE.substring(0, FILE.indexOf("ipReserveTime"))));
        await().atMost(WAIT).until(() -> metric(capo, "capo_config_reload_refused_total",
                "reason=\"keys-dropped\"") == 1);
        // release cycles run every second: give them several under the refused files
        await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(10))
                .until(() -> env.reservations().entries().size() == HELD);

        assertThat(released()).as("addresses released after the refused reloads").isZero();
        assertThat(metric(capo, "ip_reserve_evictions_count")).isZero();
        assertThat(metric(capo, "ip_reserve_count_max")).as("the config in force").isEqualTo(800);
        List<String> lines = reloaderLog.stream().skip(logged).toList();
        assertThat(lines).hasSize(2).allMatch(l -> l.startsWith("WARN config change in "
                + config.dir().resolve("capo_config.yaml") + " refused ("));
        assertThat(lines.get(0)).contains("refused (empty)", "has no settings");
        assertThat(lines.get(1)).contains("refused (keys-dropped)", "no longer names failureMode, ipReserveTime");

        // the webhook still parks, through the API server
        String ip = nextIpv4();
        statefulPod(client, ns, "broker-live", "node-1", ip);
        client.pods().inNamespace(ns).withName("broker-live").withGracePeriod(0).delete();
        await().atMost(WAIT).until(() -> env.reservations().gone(ip + "/32"));

        // a valid file that lowers the maximum does release, oldest first: the refusals are what kept them
        config.update(Map.of("capo_config.yaml", FILE.replace("ipReserveMaxCount: 800",
                "ipReserveMaxCount: " + (HELD - 10))));
        await().atMost(WAIT).until(() -> released() == 11);
        assertThat(metric(capo, "capo_releases_total", "reason=\"max-count\"")).isEqualTo(11);
        assertThat(env.reservations().has(ip + "/32")).as("the newest stays").isTrue();
    }
}
