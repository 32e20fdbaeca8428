package io.capo.runtime;

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
        KubernetesClient client = new KubernetesClientBuilder().build();
        try {
            client.getKubernetesVersion();
        } catch (RuntimeException e) {
            String url = client.getConfiguration().getMasterUrl();
            client.close();
            throw new IllegalStateException("cannot reach the Kubernetes API at " + url + " (" + e.getMessage()
                    + "); run Capo in a pod with its service account, or point KUBECONFIG at a cluster", e);
        }
        return client;
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
