package io.capo.runtime;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.UUID;

/** Finds the cluster (in-cluster service account or KUBECONFIG) and fails fast when it cannot. */
final class KubernetesConnection {

    private KubernetesConnection() {
    }

    static KubernetesClient connect() {
        Config config = Config.autoConfigure(null);
        // one quick probe without fabric8's retries, so that a missing cluster is reported in seconds
        try (KubernetesClient probe = new KubernetesClientBuilder().withConfig(new ConfigBuilder(config)
                .withRequestRetryBackoffLimit(0).withConnectionTimeout(5_000).withRequestTimeout(10_000).build())
                .build()) {
            probe.getKubernetesVersion();
        } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            throw new IllegalStateException("cannot reach the Kubernetes API at " + config.getMasterUrl() + " ("
                    + root + "); run Capo in a pod with its service account, or point KUBECONFIG at a cluster", e);
        }
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** The namespace Capo runs in: POD_NAMESPACE, the service account's namespace, or {@code default}. */
    static String ownNamespace(KubernetesClient client) {
        String env = System.getenv("POD_NAMESPACE");
        if (env != null && !env.isBlank()) {
            return env;
        }
        String configured = client.getConfiguration().getNamespace();
        return configured == null || configured.isBlank() ? "default" : configured;
    }

    /** This replica's name in the Lease: the pod name, else the host name, else a random id. */
    static String identity() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "capo-" + UUID.randomUUID();
        }
    }
}
