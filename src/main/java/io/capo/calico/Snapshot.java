package io.capo.calico;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;

/** An IPReservation as last known here: the resource (for its resourceVersion) and its decoded view. */
record Snapshot(GenericKubernetesResource resource, ReservationObject view) {

    String resourceVersion() {
        return resource.getMetadata().getResourceVersion();
    }
}
