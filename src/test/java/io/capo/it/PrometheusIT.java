package io.capo.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.capo.deploy.ChartRenderer;
import io.capo.testing.CapoInstance;
import io.capo.testing.ConfigMapVolume;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static io.capo.it.ItSupport.nextIpv4;
import static io.capo.it.ItSupport.statefulPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A real Prometheus scrapes three Capo replicas (job {@code capo-metrics-service}, namespace {@code ip-reserve}, as
 * the chart's ServiceMonitor labels them) every second and evaluates the shipped alert rules
 * (deploy/prometheus/rules.yaml, generated from the chart's PrometheusRule) every second. Capo goes through the
 * situations the alerts describe, on a real API server: a deletion the webhook missed, a burst of deletions above
 * 80 % of {@code ipReserveMaxCount} and its release, forged and malformed reviews, twenty seconds without the API
 * server (no leader, refused deletions, failed writes, slow answers), a refused config file and a replica gone.
 * Each alert must go to firing in its situation, and none before. Then every metric name README.md and docs/*.md
 * mention exists in Prometheus, and every PromQL expression of the Grafana dashboard and of the rules evaluates
 * without error and returns a series.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PrometheusIT {

    private static final String JOB = "capo-metrics-service";
    private static final String NAMESPACE = "ip-reserve";
    private static final Duration INTERVAL = Duration.ofSeconds(1);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int MAX_COUNT = 20;
    private static final int BURST = 30;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final String CONFIG = """
            apiVersion: config.capo.io/v1
            kind: CapoConfig
            ipReserveMaxCount: %d
            ipReserveTime: 4s
            """.formatted(MAX_COUNT);

    static ItEnvironment env;
    static KubernetesClient client;
    static TcpProxy apiLink;
    static TcpProxy balancer;
    static ConfigMapVolume config;
    static PrometheusServer prometheus;
    static final List<CapoInstance> replicas = new ArrayList<>();
    static String ns;
    /** Every alert seen firing, with the situation that made it fire. */
    static final Map<String, String> fired = new TreeMap<>();
    static long started;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        PrometheusServer.requireBinary();
        started = System.nanoTime();
        env = new ItEnvironment("prometheus", dir);
        client = env.client();
        ns = env.namespace("kafka", true);
        URI api = env.k8s().uri();
        // every replica reaches the API server through this proxy, so that all of them can be cut off at once
        apiLink = new TcpProxy(api.getHost(), api.getPort());
        config = new ConfigMapVolume(dir.resolve("config"), Map.of("capo_config.yaml", CONFIG));
        for (int i = 0; i < 3; i++) {
            int index = i;
            replicas.add(env.startCapo(env.k8s().newClient(apiLink.url()), b -> {
                b.identity("capo-" + index).setting("ipReserveTime", "4s")
                        .setting("ipReserveMaxCount", Integer.toString(MAX_COUNT))
                        // refused deletions answer after 2 s instead of 8 s: shorter test, and above the 1 s of
                        // CapoWebhookSlow
                        .setting("webhookBudget", "2s");
                if (index == 0) {
                    b.configFile(config.dir().resolve("capo_config.yaml"));
                }
            }));
        }
        balancer = new TcpProxy(replicas.stream()
                .map(c -> new InetSocketAddress("127.0.0.1", c.webhookPort())).toList());
        env.awaitLeader(replicas, WAIT);

        List<PrometheusServer.Target> targets = new ArrayList<>();
        for (CapoInstance capo : replicas) {
            targets.add(new PrometheusServer.Target("127.0.0.1:" + capo.managementPort(),
                    Map.of("namespace", NAMESPACE, "pod", capo.identity())));
        }
        Path rules = testRules(dir.resolve("prometheus"));
        prometheus = PrometheusServer.start(dir.resolve("prometheus"), JOB, "/observe/metrics", INTERVAL, targets,
                List.of(rules));
    }

    @AfterAll
    static void stop() {
        if (prometheus != null) {
            prometheus.close();
        }
        if (env != null) {
            env.close();
        }
        if (balancer != null) {
            balancer.close();
        }
        if (apiLink != null) {
            apiLink.close();
        }
        System.out.printf("PrometheusIT took %d s; alerts fired: %s%n",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started), fired.keySet());
    }

    /** The shipped rules, parsed: deploy/prometheus/rules.yaml, the chart's PrometheusRule as a rule file. */
    static JsonNode shippedRules() throws IOException {
        return YAML.readTree(ChartRenderer.projectRoot().resolve(ChartRenderer.PROMETHEUS_RULES).toFile());
    }

    /**
     * A test copy of the shipped rules in which every {@code for:} is 60 times shorter (minutes become seconds:
     * 3m → 3s): the expressions, thresholds and windows stay exactly as shipped; only how long a condition must
     * hold before its alert fires is scaled down, so that the test does not wait minutes per alert.
     */
    static Path testRules(Path dir) throws IOException {
        Files.createDirectories(dir);
        JsonNode rules = shippedRules();
        for (JsonNode group : rules.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                if (rule.has("for")) {
                    ((ObjectNode) rule).put("for", Math.max(1, seconds(rule.path("for").asText()) / 60) + "s");
                }
            }
        }
        return Files.writeString(dir.resolve("rules.yaml"), YAML.writeValueAsString(rules));
    }

    static long seconds(String promDuration) {
        Matcher m = Pattern.compile("(\\d+)(ms|s|m|h|d)").matcher(promDuration);
        long total = 0;
        int end = 0;
        while (m.find()) {
            long n = Long.parseLong(m.group(1));
            total += switch (m.group(2)) {
                case "ms" -> 0;
                case "s" -> n;
                case "m" -> n * 60;
                case "h" -> n * 3600;
                default -> n * 86_400;
            };
            end = m.end();
        }
        assertThat(end).as("a Prometheus duration: " + promDuration).isEqualTo(promDuration.length());
        return total;
    }

    static List<String> alertNames() throws IOException {
        List<String> names = new ArrayList<>();
        for (JsonNode group : shippedRules().path("groups")) {
            group.path("rules").forEach(r -> {
                if (r.has("alert")) {
                    names.add(r.path("alert").asText());
                }
            });
        }
        return names;
    }

    /** Waits until the alert fires and remembers in which situation it did; returns its labels. */
    static JsonNode awaitFiring(String alert, String situation) {
        return awaitFiring(alert, Map.of(), situation);
    }

    /** Waits until the alert fires with these labels (an alert per result, per stage, ...). */
    static JsonNode awaitFiring(String alert, Map<String, String> with, String situation) {
        JsonNode labels = await().atMost(WAIT).pollInterval(Duration.ofMillis(250)).until(() -> {
            for (JsonNode a : prometheus.api("/api/v1/alerts").path("data").path("alerts")) {
                JsonNode l = a.path("labels");
                if (l.path("alertname").asText().equals(alert) && "firing".equals(a.path("state").asText())
                        && with.entrySet().stream().allMatch(e -> l.path(e.getKey()).asText().equals(e.getValue()))) {
                    // the annotations' templates expand, and name only labels the expression keeps
                    a.path("annotations").forEach(text -> assertThat(text.asText()).as(alert + " annotation")
                            .isNotBlank().doesNotContain("error expanding"));
                    assertThat(l.fieldNames()).toIterable().as(alert + ": labels its annotations use")
                            .containsAll(annotationLabels(alert));
                    return l;
                }
            }
            return null;
        }, java.util.Objects::nonNull);
        fired.putIfAbsent(alert, situation);
        return labels;
    }

    /** The labels ({@code $labels.x}) the shipped annotations of an alert name. */
    static Set<String> annotationLabels(String alert) throws IOException {
        Set<String> labels = new TreeSet<>();
        for (JsonNode group : shippedRules().path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                if (alert.equals(rule.path("alert").asText())) {
                    Matcher m = Pattern.compile("\\$labels\\.(\\w+)").matcher(rule.path("annotations").toString());
                    while (m.find()) {
                        labels.add(m.group(1));
                    }
                }
            }
        }
        return labels;
    }

    static void awaitNotFiring(String alert) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(250)).until(() -> !prometheus.firing().contains(alert));
    }

    /** Lets Prometheus scrape and evaluate a few times. */
    static void evaluations(int n) throws InterruptedException {
        Thread.sleep(INTERVAL.toMillis() * n);
    }

    @Test
    @Order(1)
    void everyReplicaIsAnUpTargetAndNoAlertFires() throws Exception {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            JsonNode active = prometheus.api("/api/v1/targets").path("data").path("activeTargets");
            assertThat(active).hasSize(replicas.size());
            for (JsonNode target : active) {
                assertThat(target.path("health").asText()).as(target.toString()).isEqualTo("up");
                assertThat(target.path("labels").path("job").asText()).isEqualTo(JOB);
            }
        });
        assertThat(prometheus.value("sum(up{job=\"" + JOB + "\",namespace=\"" + NAMESPACE + "\"})"))
                .isEqualTo(replicas.size());
        assertThat(prometheus.value("count(leader_election_master_status == 1)")).isEqualTo(1);
        // long enough for every scaled-down "for:" (3m → 3s, 5m → 5s): nothing is wrong yet, nothing may fire
        evaluations(8);
        assertThat(prometheus.firing()).as("alerts in a healthy cluster").isEmpty();
    }

    /** Waits until every replica caches more pods than {@code before} (same order as the replicas). */
    static void awaitCached(List<Double> before) {
        await().atMost(WAIT).until(() -> {
            for (int i = 0; i < before.size(); i++) {
                if (ItSupport.metric(replicas.get(i), "capo_cache_pods") <= before.get(i)) {
                    return false;
                }
            }
            return true;
        });
    }

    @Test
    @Order(2)
    void aDeletionTheWebhookMissedFiresCapoLateReservations() throws Exception {
        // no webhook registered yet: the deletion goes through unseen, the event route parks the address late
        String ip = nextIpv4();
        List<Double> cached = replicas.stream().map(c -> ItSupport.metric(c, "capo_cache_pods")).toList();
        statefulPod(client, ns, "unseen-0", "node-1", ip);
        awaitCached(cached);
        client.pods().inNamespace(ns).withName("unseen-0").withGracePeriod(0).delete();
        await().atMost(WAIT).until(() -> env.reservations().has(ip + "/32"));

        awaitFiring("CapoLateReservations", "one selected pod deleted while no webhook was registered");
        assertThat(prometheus.value("sum(capo_late_reservations_total)")).isGreaterThanOrEqualTo(1);
    }

    @Test
    @Order(3)
    void aBurstAboveEightyPercentOfTheMaximumFiresCapoIpReserveNearMaxUntilReleased() throws Exception {
        env.registerWebhook(balancer.port(), replicas, ns);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < BURST; i++) {
            names.add("broker-" + i);
            statefulPod(client, ns, "broker-" + i, "node-" + i % 3, nextIpv4());
        }
        // graceful deletions: the pods stay terminating (no kubelet), so only ipReserveMaxCount releases
        ExecutorService pool = Executors.newFixedThreadPool(10);
        try {
            List<Future<?>> deletions = new ArrayList<>();
            for (String name : names) {
                deletions.add(pool.submit(() -> client.pods().inNamespace(ns).withName(name).delete()));
            }
            for (Future<?> f : deletions) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        await().atMost(WAIT).until(() -> prometheus.value("max(ip_reserve_evictions_count)") >= BURST - MAX_COUNT);
        JsonNode labels = awaitFiring("CapoIpReserveNearMax", BURST + " addresses parked at once, ipReserveMaxCount "
                + MAX_COUNT);
        assertThat(labels.path("severity").asText()).isEqualTo("warning");
        assertThat(prometheus.value("max(ip_reserve_count)")).isGreaterThan(0.8 * MAX_COUNT);

        // what else a webhook sees: a forged review, a malformed one, a plain-HTTP connection
        CapoInstance any = replicas.get(1);
        assertThat(any.postWebhook(WebhookAdmissionIT.forgedDelete(ns, "made-up-0",
                java.util.UUID.randomUUID().toString(), nextIpv4()), env.certificates().ca()).statusCode())
                .isEqualTo(200);
        assertThat(any.postWebhook("not an AdmissionReview", env.certificates().ca()).statusCode()).isEqualTo(400);
        plainHttpTo(any.webhookPort());
        awaitFiring("CapoWebhookDenials", Map.of("result", "bad-request"), "one malformed review");

        // the kubelet's final deletes: the TTL (4 s) starts and every address is released
        names.forEach(n -> client.pods().inNamespace(ns).withName(n).withGracePeriod(0).delete());
        await().atMost(WAIT).until(() -> env.reservations().entries().isEmpty());
        await().atMost(WAIT).until(() -> prometheus.value("max(ip_reserve_count)") == 0);
        awaitNotFiring("CapoIpReserveNearMax");
        assertThat(prometheus.value("sum(capo_releases_total{reason=\"ttl\"})")).isGreaterThanOrEqualTo(MAX_COUNT);
        assertThat(prometheus.value("sum(capo_releases_total{reason=\"max-count\"})"))
                .isGreaterThanOrEqualTo(BURST - MAX_COUNT);
    }

    static void plainHttpTo(int port) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: capo\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            while (in.read() >= 0) {
                // until Capo closes the connection
            }
        }
    }

    @Test
    @Order(4)
    void withoutTheApiServerNoLeaderRefusalsFailuresAndSlowAnswersFireTheirAlerts() throws Exception {
        List<String> refusedPods = new ArrayList<>();
        List<Double> cached = replicas.stream().map(c -> ItSupport.metric(c, "capo_cache_pods")).toList();
        for (int i = 0; i < 4; i++) {
            refusedPods.add("refused-" + i);
            statefulPod(client, ns, "refused-" + i, "node-1", nextIpv4());
        }
        awaitCached(cached.stream().map(n -> n + refusedPods.size() - 1).toList());

        apiLink.cut();
        try {
            awaitFiring("CapoLeaderMissing", "every replica cut off from the API server (the Lease cannot be renewed)");
            awaitFiring("CapoLeaderChanged", "the leader lost its Lease");
            ConcurrentLinkedQueue<Integer> codes = new ConcurrentLinkedQueue<>();
            try (KubernetesClient once = env.k8s().newClientWithoutRetries()) {
                ExecutorService pool = Executors.newFixedThreadPool(refusedPods.size());
                try {
                    List<Future<?>> deletions = new ArrayList<>();
                    for (String name : refusedPods) {
                        deletions.add(pool.submit(() -> {
                            try {
                                once.pods().inNamespace(ns).withName(name).withGracePeriod(0).delete();
                                codes.add(200);
                            } catch (KubernetesClientException e) {
                                codes.add(e.getCode());
                            }
                        }));
                    }
                    for (Future<?> f : deletions) {
                        f.get(1, TimeUnit.MINUTES);
                    }
                } finally {
                    pool.shutdownNow();
                }
            }
            assertThat(codes).as("deletions refused (failure mode deny)").containsOnly(429);
            awaitFiring("CapoWebhookDenials", Map.of("result", "denied"), refusedPods.size()
                    + " deletions refused: the addresses could not be parked");
            awaitFiring("CapoFailures", Map.of("stage", "write"), "IPReservation writes failed");
            awaitFiring("CapoWebhookSlow", "refused deletions answered after the 2 s webhook budget");
        } finally {
            apiLink.restore();
        }
        env.awaitLeader(replicas, WAIT);
        awaitNotFiring("CapoLeaderMissing");
        // the callers retry: now the deletions go through
        refusedPods.forEach(n -> client.pods().inNamespace(ns).withName(n).withGracePeriod(0).delete());
    }

    @Test
    @Order(5)
    void aRefusedConfigFileFiresCapoReloadRefused() throws Exception {
        config.update(Map.of("capo_config.yaml", ""));
        JsonNode labels = awaitFiring("CapoReloadRefused", "capo_config.yaml emptied on one replica");
        assertThat(labels.path("what").asText()).isEqualTo("config file");
        assertThat(labels.path("reason").asText()).isEqualTo("empty");
        config.update(Map.of("capo_config.yaml", CONFIG));
    }

    /** Metric names documented as what Capo does not publish. */
    private static final Map<String, String> NOT_PUBLISHED = Map.of("ip_reserve_evictions_count_total",
            "docs/migration.md: what a counter would be called; Capo keeps the Go Capo's name with a gauge");
    private static final Pattern DOCUMENTED_METRIC = Pattern.compile(
            "`((?:ip_reserve_|leader_election_|capo_|camel_|jvm_|process_|system_)[a-z0-9_]*\\*?)(\\{[^`}]*})?`");

    /** Metric names (and label names given as {@code name{a,b}} or {@code name{a="x"}}) in README.md and docs/*.md. */
    static Map<String, Set<String>> documentedMetrics() throws IOException {
        Path root = ChartRenderer.projectRoot();
        List<Path> files = new ArrayList<>(List.of(root.resolve("README.md")));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        Map<String, Set<String>> names = new TreeMap<>();
        for (Path file : files) {
            Matcher m = DOCUMENTED_METRIC.matcher(Files.readString(file));
            while (m.find()) {
                Set<String> labels = names.computeIfAbsent(m.group(1), k -> new TreeSet<>());
                if (m.group(2) != null) {
                    for (String label : m.group(2).substring(1, m.group(2).length() - 1).split(",")) {
                        labels.add(label.split("=")[0].trim());
                    }
                }
            }
        }
        return names;
    }

    @Test
    @Order(6)
    void everyMetricNameTheDocsMentionExists() throws Exception {
        Map<String, Set<String>> documented = documentedMetrics();
        assertThat(documented).as("metric names found in README.md and docs/*.md").hasSizeGreaterThan(20)
                .containsKeys("ip_reserve_count", "capo_webhook_duration_seconds", "jvm_*");
        Set<String> published = new TreeSet<>();
        prometheus.api("/api/v1/label/__name__/values").path("data").forEach(n -> published.add(n.asText()));
        List<String> missing = new ArrayList<>();
        documented.forEach((name, labels) -> {
            if (NOT_PUBLISHED.containsKey(name)) {
                return;
            }
            String series = name.endsWith("*") ? null
                    : Stream.of(name, name + "_bucket", name + "_count").filter(published::contains).findFirst()
                    .orElse(null);
            boolean exists = name.endsWith("*")
                    ? published.stream().anyMatch(p -> p.startsWith(name.substring(0, name.length() - 1)))
                    : series != null;
            if (!exists) {
                missing.add(name);
                return;
            }
            if (series != null && !labels.isEmpty()) {
                Set<String> seen = new TreeSet<>();
                prometheus.api("/api/v1/series", Map.of("match[]", series)).path("data")
                        .forEach(s -> s.fieldNames().forEachRemaining(seen::add));
                labels.stream().filter(l -> !seen.contains(l)).forEach(l -> missing.add(name + "{" + l + "}"));
            }
        });
        assertThat(missing).as("documented but not in Prometheus (published: " + published + ")").isEmpty();
        NOT_PUBLISHED.forEach((name, why) -> assertThat(published).as(why).doesNotContain(name));
    }

    /** Grafana's variables as a user with this test bed's single job and namespace selected (or "All") sees them. */
    static List<String> grafanaQueries(String expression) {
        List<String> queries = new ArrayList<>();
        for (String[] choice : List.of(new String[]{JOB, NAMESPACE}, new String[]{".*", ".*"})) {
            String q = expression.replace("$__rate_interval", "1m").replace("$__interval", "1m")
                    .replace("$__range", "5m").replace("$job", choice[0]).replace("$namespace", choice[1]);
            assertThat(q).as("a Grafana variable this test does not know: " + expression).doesNotContain("$");
            queries.add(q);
        }
        return queries;
    }

    @Test
    @Order(7)
    void everyDashboardExpressionEvaluatesAndReturnsASeries() throws Exception {
        JsonNode dashboard = JSON.readTree(ChartRenderer.projectRoot().resolve("deploy/grafana/dashboard.json")
                .toFile());
        Map<String, String> problems = new LinkedHashMap<>();
        List<String> expressions = dashboard.path("panels").findValuesAsText("expr");
        assertThat(expressions).hasSizeGreaterThan(10);
        for (String expression : new LinkedHashSet<>(expressions)) {
            for (String query : grafanaQueries(expression)) {
                JsonNode answer = prometheus.query(query);
                if (!"success".equals(answer.path("status").asText())) {
                    problems.put(query, answer.path("errorType").asText() + ": " + answer.path("error").asText());
                } else if (answer.path("data").path("result").isEmpty()) {
                    problems.put(query, "no series");
                }
            }
        }
        // the template variables: label_values(<series selector>, <label>)
        Pattern labelValues = Pattern.compile("label_values\\((.+),\\s*(\\w+)\\)");
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if (!"query".equals(variable.path("type").asText())) {
                continue;
            }
            String definition = variable.path("definition").asText();
            Matcher m = labelValues.matcher(definition);
            assertThat(m.matches()).as(definition).isTrue();
            for (String selector : grafanaQueries(m.group(1))) {
                JsonNode answer = prometheus.api("/api/v1/label/" + m.group(2) + "/values",
                        Map.of("match[]", selector));
                Set<String> values = new TreeSet<>();
                answer.path("data").forEach(v -> values.add(v.asText()));
                if (!"success".equals(answer.path("status").asText())) {
                    problems.put(definition + " with " + selector, answer.path("error").asText());
                } else if (!values.contains(variable.path("name").asText().equals("job") ? JOB : NAMESPACE)) {
                    problems.put(definition + " with " + selector, "values " + values);
                }
            }
        }
        assertThat(problems).as("dashboard queries that fail or return nothing").isEmpty();
    }

    @Test
    @Order(8)
    void everyRuleExpressionEvaluatesAndEveryRuleIsHealthy() throws Exception {
        Map<String, String> problems = new LinkedHashMap<>();
        for (JsonNode group : shippedRules().path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                JsonNode answer = prometheus.query(rule.path("expr").asText());
                if (!"success".equals(answer.path("status").asText())) {
                    problems.put(rule.path("alert").asText(), answer.path("error").asText());
                }
            }
        }
        assertThat(problems).as("rule expressions Prometheus refuses").isEmpty();
        JsonNode groups = prometheus.api("/api/v1/rules").path("data").path("groups");
        List<String> loaded = new ArrayList<>();
        for (JsonNode group : groups) {
            for (JsonNode rule : group.path("rules")) {
                loaded.add(rule.path("name").asText());
                assertThat(rule.path("health").asText()).as(rule.path("name") + ": " + rule.path("lastError"))
                        .isEqualTo("ok");
            }
        }
        assertThat(loaded).containsExactlyElementsOf(alertNames());
    }

    @Test
    @Order(9)
    void aReplicaGoneFiresCapoInstancesDown() throws Exception {
        CapoInstance gone = replicas.get(2);
        env.stopCapo(gone);
        JsonNode labels = awaitFiring("CapoInstancesDown", "one of three replicas stopped");
        assertThat(labels.path("severity").asText()).isEqualTo("critical");
        assertThat(prometheus.value("sum(up{job=\"" + JOB + "\",namespace=\"" + NAMESPACE + "\"})")).isEqualTo(2);
    }

    @Test
    @Order(10)
    void everyAlertOfTheRulesFiredInItsSituation() throws Exception {
        assertThat(fired.keySet()).as("alerts of deploy/prometheus/rules.yaml that fired; give an alert without a "
                + "situation one here: " + fired).containsExactlyInAnyOrderElementsOf(alertNames());
        fired.forEach((alert, situation) -> System.out.printf("%s fired: %s%n", alert, situation));
    }
}
