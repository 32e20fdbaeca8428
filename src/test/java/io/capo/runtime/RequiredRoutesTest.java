package io.capo.runtime;

import io.capo.testing.CapoInstance;
import io.capo.testing.ConfigMapVolume;
import io.capo.testing.MockCluster;
import io.capo.testing.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** What Capo does at start with route files that lack a required route, and with an empty config file. */
class RequiredRoutesTest {

    @TempDir
    Path dir;
    final MockCluster cluster = new MockCluster();
    final TestCertificates certificates = new TestCertificates("required-ca");
    CapoInstance capo;

    @AfterEach
    void tearDown() throws Exception {
        if (capo != null) {
            capo.close();
        }
        cluster.close();
    }

    static String bundled(String name) throws Exception {
        try (InputStream in = RequiredRoutesTest.class.getResourceAsStream("/routes/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void withoutTheReleaseRouteTheStartCheckFailsAndTheLeaderIsNotLive() throws Exception {
        Map<String, String> files = new LinkedHashMap<>();
        for (String name : List.of("admission-webhook.camel.yaml", "kubernetes-events.camel.yaml")) {
            files.put(name, bundled(name));
        }
        ConfigMapVolume volume = new ConfigMapVolume(dir.resolve("routes"), files);
        capo = CapoInstance.builder(cluster.client(), certificates.writeServing(dir.resolve("certs"), "capo"))
                .routesDir(volume.dir()).start();

        assertThatThrownBy(() -> CapoRuntime.verifyRequiredRoutes(capo.context()))
                .hasMessage("required route(s) release not defined by the route files (Capo needs "
                        + "admission-webhook, kubernetes-pod-events, kubernetes-node-deleted, release)");
        await().atMost(Duration.ofSeconds(20)).until(() -> capo.get("/observe/metrics").body()
                .contains("leader_election_master_status{name=\"capo\"} 1.0"));
        await().atMost(Duration.ofSeconds(10)).until(() -> capo.get("/observe/health/live").statusCode() == 503);
        assertThat(capo.get("/observe/health/ready").statusCode()).isEqualTo(200);
    }

    @Test
    void theBundledRoutesPassTheStartCheck() throws Exception {
        capo = CapoInstance.builder(cluster.client(), certificates.writeServing(dir.resolve("certs"), "capo")).start();
        CapoRuntime.verifyRequiredRoutes(capo.context());
        assertThat(capo.get("/observe/health/live").statusCode()).isEqualTo(200);
    }

    @Test
    void anEmptyConfigFileStopsTheStartNamingTheFile() throws Exception {
        Path file = Files.writeString(dir.resolve("capo_config.yaml"), "# truncated\n");
        assertThatThrownBy(() -> CapoInstance.builder(cluster.client(),
                certificates.writeServing(dir.resolve("certs"), "capo")).configFile(file).start())
                .hasStackTraceContaining(file + ": has no settings");
    }
}
