package io.capo.routes;

import io.capo.calico.CalicoReservationStore;
import io.capo.reservation.ReservationRequest;
import io.capo.runtime.RoutesReloader;
import io.capo.testing.CapoInstance;
import io.capo.testing.ConfigMapVolume;
import io.capo.testing.MockCluster;
import io.capo.testing.TestCertificates;
import org.apache.camel.Route;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Changes applied without a restart: routes from a ConfigMap volume, the config file, the certificate. */
class ReloadRouteTest {

    @TempDir
    Path dir;
    final MockCluster cluster = new MockCluster();
    final TestCertificates certificates = new TestCertificates("reload-ca");
    CapoInstance capo;

    @AfterEach
    void tearDown() throws Exception {
        if (capo != null) {
            capo.close();
        }
        cluster.close();
    }

    static Map<String, String> bundledRoutes() throws IOException {
        Map<String, String> files = new LinkedHashMap<>();
        for (String name : List.of("admission-webhook.camel.yaml", "kubernetes-events.camel.yaml", "release.camel.yaml")) {
            try (InputStream in = ReloadRouteTest.class.getResourceAsStream("/routes/" + name)) {
                files.put(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        return files;
    }

    void park(String cidr, Instant goneAt) throws Exception {
        capo.bean("reservationStore", CalicoReservationStore.class).reserve(new ReservationRequest("kafka", "p-" + cidr,
                "uid-" + cidr, "n", List.of(cidr), "delete", goneAt, goneAt, null)).get(5, TimeUnit.SECONDS);
    }

    CalicoReservationStore store() {
        return capo.bean("reservationStore", CalicoReservationStore.class);
    }

    @Test
    void releaseRouteChangedThroughAConfigMapSwapAppliesWithoutRestart() throws Exception {
        Map<String, String> routes = bundledRoutes();
        ConfigMapVolume volume = new ConfigMapVolume(dir.resolve("routes"), routes);
        capo = CapoInstance.builder(cluster.client(), certificates.writeServing(dir.resolve("certs"), "capo"))
                .routesDir(volume.dir()).start();
        park("10.20.0.1/32", Instant.now().minus(Duration.ofMinutes(5)));
        await().during(Duration.ofSeconds(2)).until(() -> store().find("10.20.0.1/32").isPresent());

        Map<String, String> changed = new LinkedHashMap<>(routes);
        String anchor = "        - bean:\n            ref: goCapoAdoption";
        String shorterTtl = "        - setHeader:\n            name: CapoIpReserveTime\n            constant: \"1m\"\n";
        assertThat(routes.get("release.camel.yaml")).contains(anchor);
        changed.put("release.camel.yaml", routes.get("release.camel.yaml").replace(anchor, shorterTtl + anchor));
        volume.update(changed);

        await().atMost(Duration.ofSeconds(30)).until(() -> store().find("10.20.0.1/32").isEmpty());
    }

    @Test
    void brokenRouteFileIsRefusedAndTheRunningRoutesStay() throws Exception {
        Map<String, String> routes = bundledRoutes();
        ConfigMapVolume volume = new ConfigMapVolume(dir.resolve("routes"), routes);
        Path certs = certificates.writeServing(dir.resolve("certs"), "capo");
        capo = CapoInstance.builder(cluster.client(), certs).routesDir(volume.dir()).start();
        List<String> before = capo.context().getRoutes().stream().map(Route::getRouteId).sorted().toList();

        Map<String, String> broken = new LinkedHashMap<>(routes);
        broken.put("release.camel.yaml", "- route:\n    id: release\n    from:\n      uri: [this is not\n");
        volume.update(broken);
        RoutesReloader reloader = capo.bean("routesReloader", RoutesReloader.class);
        await().atMost(Duration.ofSeconds(20)).until(() -> reloader.refusedChanges() == 1);
        Map<String, String> unknownStep = new LinkedHashMap<>(routes);
        unknownStep.put("release.camel.yaml", routes.get("release.camel.yaml").replace("- bean:", "- noSuchStep:"));
        volume.update(unknownStep);
        await().atMost(Duration.ofSeconds(20)).until(() -> reloader.refusedChanges() == 2);
        Map<String, String> unknownBean = new LinkedHashMap<>(routes);
        unknownBean.put("release.camel.yaml", routes.get("release.camel.yaml").replace("ref: releaseCycle",
                "ref: noSuchBean"));
        volume.update(unknownBean);
        await().atMost(Duration.ofSeconds(20)).until(() -> reloader.refusedChanges() == 3);

        assertThat(capo.context().getRoutes().stream().map(Route::getRouteId).sorted().toList()).isEqualTo(before);
        assertThat(capo.context().getRouteController().getRouteStatus("release").isStarted()).isTrue();
        assertThat(capo.postWebhook("{}", certificates.ca()).statusCode()).isEqualTo(400);
        assertThat(routesRefused(capo, "invalid")).isEqualTo(2);
        assertThat(routesRefused(capo, "start-failed")).isEqualTo(1);
    }

    static double metric(CapoInstance capo, String name, String labels) throws Exception {
        return capo.get("/observe/metrics").body().lines().filter(l -> l.startsWith(name + "{" + labels + "}"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    static double routesRefused(CapoInstance capo, String reason) throws Exception {
        return metric(capo, "capo_routes_reload_refused_total", "reason=\"" + reason + "\"");
    }

    @Test
    void aRouteSetWithoutARequiredRouteOrWithEmptiedFilesIsRefusedAndTheWebhookKeepsServing() throws Exception {
        Map<String, String> routes = bundledRoutes();
        ConfigMapVolume volume = new ConfigMapVolume(dir.resolve("routes"), routes);
        capo = CapoInstance.builder(cluster.client(), certificates.writeServing(dir.resolve("certs"), "capo"))
                .routesDir(volume.dir()).start();
        List<String> before = capo.context().getRoutes().stream().map(Route::getRouteId).sorted().toList();
        RoutesReloader reloader = capo.bean("routesReloader", RoutesReloader.class);
        assertThat(routesRefused(capo, "required-route-missing")).isZero();

        // the webhook's file deleted from the ConfigMap
        Map<String, String> withoutWebhook = new LinkedHashMap<>(routes);
        withoutWebhook.remove("admission-webhook.camel.yaml");
        volume.update(withoutWebhook);
        await().atMost(Duration.ofSeconds(20)).until(() -> reloader.refusedChanges() == 1);
        assertThat(routesRefused(capo, "required-route-missing")).isEqualTo(1);

        // every file emptied (a truncated write, empty ConfigMap keys)
        Map<String, String> emptied = new LinkedHashMap<>();
        routes.keySet().forEach(name -> emptied.put(name, ""));
        volume.update(emptied);
        await().atMost(Duration.ofSeconds(20)).until(() -> reloader.refusedChanges() == 2);
        // the release route's id kept, its file replaced by one without content next to a valid one
        Map<String, String> oneEmptied = new LinkedHashMap<>(routes);
        oneEmptied.put("release.camel.yaml", "# truncated\n");
        volume.update(oneEmptied);
        await().atMost(Duration.ofSeconds(20)).until(() -> reloader.refusedChanges() == 3);
        // no route file at all
        volume.update(Map.of());
        await().atMost(Duration.ofSeconds(20)).until(() -> reloader.refusedChanges() == 4);
        assertThat(routesRefused(capo, "empty")).isEqualTo(3);
        // the webhook route kept by id, but on another path: the API server would get 404 as well
        Map<String, String> moved = new LinkedHashMap<>(routes);
        moved.put("admission-webhook.camel.yaml", routes.get("admission-webhook.camel.yaml")
                .replace("platform-http:/pod-ip-reservation", "platform-http:/pod-ip-reservation-v2"));
        assertThat(moved).isNotEqualTo(routes);
        volume.update(moved);
        await().atMost(Duration.ofSeconds(20)).until(() -> reloader.refusedChanges() == 5);
        assertThat(routesRefused(capo, "required-route-missing")).isEqualTo(2);

        assertThat(capo.context().getRoutes().stream().map(Route::getRouteId).sorted().toList()).isEqualTo(before);
        assertThat(capo.postWebhook("{}", certificates.ca()).statusCode()).isEqualTo(400);
        assertThat(capo.get("/observe/health/ready").statusCode()).isEqualTo(200);

        // the bundled files back: a valid change again
        volume.update(routes);
        await().atMost(Duration.ofSeconds(20)).until(() -> capo.get("/observe/metrics").body()
                .contains("capo_routes_reload_refused_total{reason=\"empty\"} 3.0"));
        assertThat(reloader.refusedChanges()).isEqualTo(5);
    }

    @Test
    void readinessFollowsTheWebhookPathAndLivenessTheLeadersReleaseRoute() throws Exception {
        capo = CapoInstance.builder(cluster.client(), certificates.writeServing(dir.resolve("certs"), "capo")).start();
        assertThat(capo.get("/observe/health/ready").statusCode()).isEqualTo(200);

        capo.context().getRouteController().stopRoute("admission-webhook");
        await().atMost(Duration.ofSeconds(10)).until(() -> capo.get("/observe/health/ready").statusCode() == 503);
        assertThat(capo.get("/observe/health/ready").body()).contains("capo-webhook");
        assertThat(capo.postWebhook("{}", certificates.ca()).statusCode()).isEqualTo(404);
        assertThat(capo.get("/observe/health/live").statusCode()).as("liveness does not follow the webhook")
                .isEqualTo(200);
        capo.context().getRouteController().startRoute("admission-webhook");
        await().atMost(Duration.ofSeconds(10)).until(() -> capo.get("/observe/health/ready").statusCode() == 200);
        assertThat(capo.postWebhook("{}", certificates.ca()).statusCode()).isEqualTo(400);

        // the route still reports Started, but its path is gone from the HTTPS server's router
        capo.context().getRegistry().findByType(VertxPlatformHttpRouter.class).forEach(router -> router.getRoutes()
                .stream().filter(r -> "/pod-ip-reservation".equals(r.getPath())).toList().forEach(r -> r.remove()));
        assertThat(capo.context().getRouteController().getRouteStatus("admission-webhook").isStarted()).isTrue();
        assertThat(capo.postWebhook("{}", certificates.ca()).statusCode()).isEqualTo(404);
        await().atMost(Duration.ofSeconds(10)).until(() -> capo.get("/observe/health/ready").statusCode() == 503);
        capo.context().getRouteController().stopRoute("admission-webhook");
        capo.context().getRouteController().startRoute("admission-webhook");
        await().atMost(Duration.ofSeconds(10)).until(() -> capo.get("/observe/health/ready").statusCode() == 200);

        await().atMost(Duration.ofSeconds(20)).until(() -> capo.get("/observe/metrics").body()
                .contains("leader_election_master_status{name=\"capo\"} 1.0"));
        capo.context().getRouteController().stopRoute("release");
        capo.context().removeRoute("release");
        await().atMost(Duration.ofSeconds(10)).until(() -> capo.get("/observe/health/live").statusCode() == 503);
        assertThat(capo.get("/observe/health/live").body()).contains("capo-release-route");
        assertThat(capo.get("/observe/health/ready").statusCode()).as("readiness never follows leadership")
                .isEqualTo(200);
    }

    @Test
    void anEmptiedConfigFileIsRefusedAndNothingIsReleased() throws Exception {
        Path config = dir.resolve("config");
        String running = """
                apiVersion: config.capo.io/v1
                kind: CapoConfig
                ipReserveMaxCount: 800
                ipReserveTime: 1h
                failureMode: allow
                """;
        ConfigMapVolume volume = new ConfigMapVolume(config, Map.of("capo_config.yaml", running));
        capo = CapoInstance.builder(cluster.client(), certificates.writeServing(dir.resolve("certs"), "capo"))
                .configFile(config.resolve("capo_config.yaml")).start();
        await().atMost(Duration.ofSeconds(20)).until(() -> capo.get("/observe/metrics").body()
                .contains("leader_election_master_status{name=\"capo\"} 1.0"));
        // gone 45 minutes ago: kept by the file's 1h, released at once by the default 40m
        park("10.20.0.7/32", Instant.now().minus(Duration.ofMinutes(45)));
        park("10.20.0.8/32", Instant.now().minus(Duration.ofMinutes(45)));

        volume.update(Map.of("capo_config.yaml", ""));
        await().atMost(Duration.ofSeconds(20)).until(() -> metric(capo, "capo_config_reload_refused_total",
                "reason=\"empty\"") == 1);
        volume.update(Map.of("capo_config.yaml", running.substring(0, running.indexOf("ipReserveTime"))));
        await().atMost(Duration.ofSeconds(20)).until(() -> metric(capo, "capo_config_reload_refused_total",
                "reason=\"keys-dropped\"") == 1);
        // several release cycles (1 s) under the refused files
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                .until(() -> store().find("10.20.0.7/32").isPresent() && store().find("10.20.0.8/32").isPresent());
        assertThat(metric(capo, "capo_releases_total", "reason=\"ttl\"")).isZero();
        assertThat(capo.get("/observe/metrics").body()).contains("ip_reserve_count_max 800.0");

        // the same addresses do go when a valid file says so: the refusal is what kept them
        volume.update(Map.of("capo_config.yaml", running.replace("ipReserveTime: 1h", "ipReserveTime: 30m")));
        await().atMost(Duration.ofSeconds(20)).until(() -> store().find("10.20.0.7/32").isEmpty()
                && store().find("10.20.0.8/32").isEmpty());
    }

    @Test
    void configFileChangeIsAppliedAndAnInvalidOneRefused() throws Exception {
        Path config = dir.resolve("config");
        ConfigMapVolume volume = new ConfigMapVolume(config, Map.of("capo_config.yaml", """
                apiVersion: config.capo.io/v1
                kind: CapoConfig
                ipReserveMaxCount: 400
                ipReserveTime: 40m
                ipReleasePeriod: 1s
                """));
        capo = CapoInstance.builder(cluster.client(), certificates.writeServing(dir.resolve("certs"), "capo"))
                .configFile(config.resolve("capo_config.yaml")).start();
        assertThat(capo.get("/observe/metrics").body()).contains("ip_reserve_count_max 400.0");

        volume.update(Map.of("capo_config.yaml", """
                apiVersion: config.capo.io/v1
                kind: CapoConfig
                ipReserveMaxCount: 500
                ipReserveTime: 40m
                ipReleasePeriod: 1s
                """));
        await().atMost(Duration.ofSeconds(20)).until(() -> capo.get("/observe/metrics").body()
                .contains("ip_reserve_count_max 500.0"));

        volume.update(Map.of("capo_config.yaml", """
                apiVersion: config.capo.io/v1
                kind: CapoConfig
                ipReserveMaxCount: -1
                """));
        await().during(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(10)).until(() -> capo.get("/observe/metrics")
                .body().contains("ip_reserve_count_max 500.0"));
    }

    @Test
    void rotatedCertificateIsServedWithoutRestart() throws Exception {
        Path certs = certificates.writeServing(dir.resolve("certs"), "capo");
        capo = CapoInstance.builder(cluster.client(), certs).start();
        assertThat(capo.postWebhook("{}", certificates.ca()).statusCode()).isEqualTo(400);

        TestCertificates rotated = new TestCertificates("rotated-ca");
        Path next = rotated.writeServing(dir.resolve("next"), "capo");
        Files.copy(next.resolve("tls.key"), certs.resolve("tls.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(next.resolve("tls.crt"), certs.resolve("tls.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .until(() -> capo.postWebhook("{}", rotated.ca()).statusCode() == 400);
        assertThatThrownBy(() -> capo.postWebhook("{}", certificates.ca())).hasCauseInstanceOf(SSLHandshakeException.class);
    }

    double refusals(String reason) throws Exception {
        return capo.get("/observe/metrics").body().lines()
                .filter(l -> l.startsWith("capo_webhook_certificate_reload_refused_total{reason=\"" + reason + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void aMismatchedOrHalfWrittenCertificateIsRefusedAndTheServedOneStays() throws Exception {
        Path certs = certificates.writeServing(dir.resolve("certs"), "capo");
        capo = CapoInstance.builder(cluster.client(), certs).start();
        TestCertificates rotated = new TestCertificates("rotated-ca");
        TestCertificates.Serving next = rotated.serving("capo", "EC", false, Instant.now().plus(Duration.ofDays(2)));
        TestCertificates.Serving other = rotated.serving("capo", "EC", false, Instant.now().plus(Duration.ofDays(2)));

        // the key of another certificate: applied, every handshake would fail (bad signature)
        Files.writeString(certs.resolve("tls.crt"), next.certPem());
        Files.writeString(certs.resolve("tls.key"), other.keyPem());
        await().atMost(Duration.ofSeconds(20)).until(() -> refusals("key-mismatch") == 1.0);
        assertThat(capo.postWebhook("{}", certificates.ca()).statusCode()).isEqualTo(400);

        // a copy caught half way: the key is new, the certificate cut off
        Files.writeString(certs.resolve("tls.key"), next.keyPem());
        Files.writeString(certs.resolve("tls.crt"), next.certPem().substring(0, next.certPem().length() / 2));
        await().atMost(Duration.ofSeconds(20)).until(() -> refusals("unreadable") == 1.0);
        assertThat(capo.postWebhook("{}", certificates.ca()).statusCode()).isEqualTo(400);

        // the copy completes: the next change is tried again and applied
        Files.writeString(certs.resolve("tls.crt"), next.certPem());
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .until(() -> capo.postWebhook("{}", rotated.ca()).statusCode() == 400);
        assertThatThrownBy(() -> capo.postWebhook("{}", certificates.ca())).hasCauseInstanceOf(SSLHandshakeException.class);
        assertThat(refusals("key-mismatch") + refusals("unreadable")).isEqualTo(2.0);

        // the swapped-in certificate keeps the restricted suites: a CBC-SHA1 client is still refused
        javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) CapoInstance.trusting(rotated.ca())
                .getSocketFactory().createSocket("localhost", capo.webhookPort());
        try (socket) {
            socket.setEnabledProtocols(new String[]{"TLSv1.2"});
            socket.setEnabledCipherSuites(new String[]{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"});
            assertThatThrownBy(socket::startHandshake).isInstanceOf(SSLHandshakeException.class);
        }
    }

    @Test
    void anExpiredCertificateIsNotSwappedIn() throws Exception {
        Path certs = certificates.writeServing(dir.resolve("certs"), "capo");
        capo = CapoInstance.builder(cluster.client(), certs).start();
        TestCertificates rotated = new TestCertificates("rotated-ca");
        rotated.write(certs, rotated.serving("capo", "RSA", true, Instant.now().minus(Duration.ofMinutes(5))));

        await().atMost(Duration.ofSeconds(20)).until(() -> refusals("expired") == 1.0);
        assertThat(capo.postWebhook("{}", certificates.ca()).statusCode()).isEqualTo(400);
    }

    @Test
    void aMismatchedPairStopsCapoAtStartWithAMessageNamingTheFiles() {
        Path certs = certificates.writeServing(dir.resolve("certs"), "capo");
        TestCertificates.Serving other = certificates.serving("capo", "RSA", false, Instant.now().plus(Duration.ofDays(1)));
        certificates.write(certs, new TestCertificates.Serving(certificates.serving("capo", "RSA", false,
                Instant.now().plus(Duration.ofDays(1))).certPem(), other.keyPem()));

        assertThatThrownBy(() -> CapoInstance.builder(cluster.client(), certs).start())
                .hasStackTraceContaining("cannot use webhook certificate")
                .hasStackTraceContaining(certs.resolve("tls.key") + " does not belong to the certificate in "
                        + certs.resolve("tls.crt"));
    }
}
