package io.capo.config;

import io.capo.calico.CalicoApi;
import io.capo.reservation.GoDuration;
import io.capo.reservation.SelectorRequirement;
import io.capo.reservation.K8sNames;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;

/**
 * The validated Capo settings. Every instance is valid: the constructor throws {@link ConfigException} naming the
 * YAML field (dotted path) at fault.
 *
 * @param matchLabels     {@code labelSelector.matchLabels}, insertion ordered
 * @param namespaceLabel  {@code key=value} a namespace must carry for its pods to be handled
 * @param webhookBudget   how long the webhook waits for the reservation write before applying {@code failureMode}
 * @param staleGrace      how long a reservation may outlive its pod's record before it counts as stale
 * @param managementPort  port of metrics.bindAddress; health is served there as well
 * @param healthProbePort port of health.healthProbeBindAddress, informational only
 */
public record CapoSettings(
        int ipReserveMaxCount,
        Duration ipReserveTime,
        Duration ipReleasePeriod,
        List<SelectorRequirement> matchExpressions,
        Map<String, String> matchLabels,
        SelectorMode selectorMode,
        String namespaceLabel,
        FailureMode failureMode,
        Duration webhookBudget,
        Duration staleGrace,
        String calicoApiVersion,
        int reservationObjects,
        String reservationObjectName,
        LeaderElection leaderElection,
        int webhookPort,
        String certDir,
        int managementPort,
        int healthProbePort) {

    private static final Set<String> CALICO_API_VERSIONS = Set.of(CalicoApi.V3, CalicoApi.CRD_V1);
    private static final Duration WEBHOOK_BUDGET_LIMIT = Duration.ofSeconds(30);

    public CapoSettings {
        Objects.requireNonNull(leaderElection, "leaderElection");
        Objects.requireNonNull(selectorMode, "selectorMode");
        Objects.requireNonNull(failureMode, "failureMode");
        matchExpressions = matchExpressions == null ? List.of() : List.copyOf(matchExpressions);
        matchLabels = matchLabels == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(matchLabels));

        if (ipReserveMaxCount <= 0) {
            throw invalid("ipReserveMaxCount", "must be greater than 0, got " + ipReserveMaxCount);
        }
        requirePositive("ipReserveTime", ipReserveTime);
        Objects.requireNonNull(ipReleasePeriod, "ipReleasePeriod");
        if (ipReleasePeriod.compareTo(Duration.ofSeconds(1)) < 0) {
            throw invalid("ipReleasePeriod", "must be at least 1s, got " + GoDuration.format(ipReleasePeriod));
        }
        matchLabels.forEach((key, value) -> {
            if (!K8sNames.isLabelKey(key)) {
                throw invalid("labelSelector.matchLabels", "\"" + key + "\" is not a valid label key");
            }
            if (!K8sNames.isLabelValue(value)) {
                throw invalid("labelSelector.matchLabels", key + ": \"" + value + "\" is not a valid label value");
            }
        });
        validateNamespaceLabel(namespaceLabel);
        requirePositive("webhookBudget", webhookBudget);
        if (webhookBudget.compareTo(WEBHOOK_BUDGET_LIMIT) >= 0) {
            // the API server gives up on a webhook call after 30s at most
            throw invalid("webhookBudget", "must be less than 30s, got " + GoDuration.format(webhookBudget));
        }
        requirePositive("staleGrace", staleGrace);
        if (calicoApiVersion == null || !CALICO_API_VERSIONS.contains(calicoApiVersion)) {
            throw invalid("calicoApiVersion",
                    "\"" + calicoApiVersion + "\" is not supported (" + CalicoApi.V3 + " or " + CalicoApi.CRD_V1 + ")");
        }
        if (reservationObjects < 1 || reservationObjects > 16) {
            throw invalid("reservationObjects", "must be between 1 and 16, got " + reservationObjects);
        }
        if (!K8sNames.isDns1123Subdomain(reservationObjectName)) {
            throw invalid("reservationObjectName",
                    "\"" + reservationObjectName + "\" is not a valid object name (DNS-1123 subdomain)");
        }
        requirePort("webhook.port", webhookPort);
        if (certDir == null || certDir.isBlank()) {
            throw invalid("webhook.certDir", "must not be empty");
        }
        requirePort("metrics.bindAddress", managementPort);
        requirePort("health.healthProbeBindAddress", healthProbePort);
        if (webhookPort == managementPort) {
            // the management endpoints would then be served on the HTTPS webhook server
            throw invalid("metrics.bindAddress", "must use another port than webhook.port (" + webhookPort + ")");
        }
    }

    public static CapoSettings defaults() {
        return new CapoSettings(300, Duration.ofMinutes(40), Duration.ofSeconds(5),
                List.of(SelectorRequirement.exists("statefulset.kubernetes.io/pod-name"),
                        SelectorRequirement.exists("brokerId")),
                Map.of(), SelectorMode.ANY_OF, "ip-reserve=enabled", FailureMode.DENY, Duration.ofSeconds(8),
                Duration.ofMinutes(5), CalicoApi.V3, 1, "ip-reserve-delay-release", LeaderElection.defaults(), 9443,
                "/tmp/k8s-webhook-server/serving-certs", 8080, 8080);
    }

    public String namespaceLabelKey() {
        return namespaceLabel.substring(0, namespaceLabel.indexOf('='));
    }

    public String namespaceLabelValue() {
        return namespaceLabel.substring(namespaceLabel.indexOf('=') + 1);
    }

    /** One line with every value, to log at start and on reload. */
    public String describe() {
        StringJoiner selector = new StringJoiner(", ", selectorMode.yamlName() + "[", "]");
        matchLabels.forEach((key, value) -> selector.add(key + "=" + value));
        matchExpressions.forEach(r -> selector.add(r.toString()));
        return "ipReserveMaxCount=" + ipReserveMaxCount
                + " ipReserveTime=" + GoDuration.format(ipReserveTime)
                + " ipReleasePeriod=" + GoDuration.format(ipReleasePeriod)
                + " labelSelector=" + selector
                + " namespaceLabel=" + namespaceLabel
                + " failureMode=" + failureMode.yamlName()
                + " webhookBudget=" + GoDuration.format(webhookBudget)
                + " staleGrace=" + GoDuration.format(staleGrace)
                + " calicoApiVersion=" + calicoApiVersion
                + " reservationObjects=" + reservationObjects
                + " reservationObjectName=" + reservationObjectName
                + " leaderElection=" + leaderElection
                + " webhook.port=" + webhookPort
                + " webhook.certDir=" + certDir
                + " managementPort=" + managementPort
                + " healthProbePort=" + healthProbePort;
    }

    static ConfigException invalid(String field, String problem) {
        return new ConfigException(field + ": " + problem, field, null);
    }

    private static void requirePositive(String field, Duration value) {
        if (value == null) {
            throw invalid(field, "must be set");
        }
        if (value.isNegative() || value.isZero()) {
            throw invalid(field, "must be greater than 0, got " + GoDuration.format(value));
        }
    }

    private static void requirePort(String field, int port) {
        if (port < 1 || port > 65535) {
            throw invalid(field, "port must be between 1 and 65535, got " + port);
        }
    }

    private static void validateNamespaceLabel(String namespaceLabel) {
        int eq = namespaceLabel == null ? -1 : namespaceLabel.indexOf('=');
        if (eq < 0) {
            throw invalid("namespaceLabel", "\"" + namespaceLabel + "\" is not in the form key=value");
        }
        String key = namespaceLabel.substring(0, eq);
        String value = namespaceLabel.substring(eq + 1);
        if (!K8sNames.isLabelKey(key)) {
            throw invalid("namespaceLabel", "\"" + key + "\" is not a valid label key");
        }
        if (!K8sNames.isLabelValue(value)) {
            throw invalid("namespaceLabel", "\"" + value + "\" is not a valid label value");
        }
    }
}
