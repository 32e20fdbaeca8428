package io.capo.config;

import io.capo.reservation.GoDuration;
import io.capo.reservation.K8sNames;

import java.time.Duration;
import java.util.Objects;

/**
 * Leader election settings, as in controller-runtime's {@code leaderElection} section.
 *
 * @param resourceNamespace namespace of the lease; empty means the pod's own namespace
 */
public record LeaderElection(boolean leaderElect, String resourceName, String resourceNamespace,
                             Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {

    public LeaderElection {
        resourceNamespace = resourceNamespace == null ? "" : resourceNamespace;
        Objects.requireNonNull(leaseDuration, "leaseDuration");
        Objects.requireNonNull(renewDeadline, "renewDeadline");
        Objects.requireNonNull(retryPeriod, "retryPeriod");
        if (!K8sNames.isDns1123Subdomain(resourceName)) {
            throw CapoSettings.invalid("leaderElection.resourceName",
                    "\"" + resourceName + "\" is not a valid resource name (DNS-1123 subdomain)");
        }
        if (!resourceNamespace.isEmpty() && !K8sNames.isDns1123Subdomain(resourceNamespace)) {
            throw CapoSettings.invalid("leaderElection.resourceNamespace",
                    "\"" + resourceNamespace + "\" is not a valid namespace name");
        }
        if (retryPeriod.isNegative() || retryPeriod.isZero()) {
            throw CapoSettings.invalid("leaderElection.retryPeriod",
                    "must be greater than 0, got " + GoDuration.format(retryPeriod));
        }
        if (renewDeadline.compareTo(retryPeriod) <= 0) {
            throw new ConfigException("leaderElection.renewDeadline must be greater than leaderElection.retryPeriod ("
                    + GoDuration.format(renewDeadline) + " <= " + GoDuration.format(retryPeriod) + ")",
                    "leaderElection.renewDeadline", null);
        }
        if (leaseDuration.compareTo(renewDeadline) <= 0) {
            throw new ConfigException("leaderElection.leaseDuration must be greater than leaderElection.renewDeadline ("
                    + GoDuration.format(leaseDuration) + " <= " + GoDuration.format(renewDeadline) + ")",
                    "leaderElection.leaseDuration", null);
        }
    }

    public static LeaderElection defaults() {
        return new LeaderElection(true, "capo", "", Duration.ofSeconds(15), Duration.ofSeconds(10),
                Duration.ofSeconds(2));
    }

    @Override
    public String toString() {
        return "{leaderElect=" + leaderElect + ", resource=" + (resourceNamespace.isEmpty() ? "<pod namespace>"
                : resourceNamespace) + "/" + resourceName + ", leaseDuration=" + GoDuration.format(leaseDuration)
                + ", renewDeadline=" + GoDuration.format(renewDeadline) + ", retryPeriod="
                + GoDuration.format(retryPeriod) + "}";
    }
}
