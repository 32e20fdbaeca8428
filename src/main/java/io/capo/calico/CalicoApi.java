package io.capo.calico;

import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

/** The Calico API Capo writes IPReservations through. */
public record CalicoApi(String apiVersion) {

    public static final String V3 = "projectcalico.org/v3";
    public static final String CRD_V1 = "crd.projectcalico.org/v1";

    public CalicoApi {
        if (!V3.equals(apiVersion) && !CRD_V1.equals(apiVersion)) {
            throw new IllegalArgumentException("unsupported Calico API " + apiVersion + " (use " + V3 + " or " + CRD_V1 + ")");
        }
    }

    public ResourceDefinitionContext context() {
        int slash = apiVersion.indexOf('/');
        return new ResourceDefinitionContext.Builder()
                .withGroup(apiVersion.substring(0, slash))
                .withVersion(apiVersion.substring(slash + 1))
                .withKind("IPReservation")
                .withPlural("ipreservations")
                .withNamespaced(false)
                .build();
    }
}
