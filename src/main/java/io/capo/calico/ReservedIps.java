package io.capo.calico;

import io.capo.reservation.GoDuration;
import io.capo.reservation.Cidrs;
import io.capo.reservation.Reservation;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Capo's reservation metadata, one {@code ReservedIP} ({@code reservedips.capo.io}) per parked address in Capo's
 * namespace, named after the CIDR ({@code 10-0-0-7-32}, {@code fd00--7-128}). Calico never reads these objects, so
 * the IPReservation it downloads on every assignment carries the CIDRs only.
 */
public final class ReservedIps {

    public static final String GROUP = "capo.io";
    public static final String API_VERSION = GROUP + "/v1";
    public static final String KIND = "ReservedIP";
    /** Which set of IPReservation objects (its base name) an entry belongs to. */
    public static final String SET_LABEL = "capo.io/ipreservation";

    private ReservedIps() {
    }

    public static ResourceDefinitionContext context() {
        return new ResourceDefinitionContext.Builder().withGroup(GROUP).withVersion("v1").withKind(KIND)
                .withPlural("reservedips").withNamespaced(true).build();
    }

    /** The object name for a normalized CIDR: separators become dashes, a leading dash gets a {@code 0}. */
    public static String name(String cidr) {
        String name = cidr.toLowerCase(Locale.ROOT).replace('.', '-').replace(':', '-').replace('/', '-');
        return name.startsWith("-") ? "0" + name : name;
    }

    public static GenericKubernetesResource toResource(Reservation r, String namespace, String set, String object) {
        GenericKubernetesResource resource = new GenericKubernetesResource();
        resource.setApiVersion(API_VERSION);
        resource.setKind(KIND);
        resource.setMetadata(new ObjectMetaBuilder().withName(name(r.cidr())).withNamespace(namespace)
                .addToLabels(SET_LABEL, set).addToLabels(ReservationObject.MANAGED_BY_LABEL, "capo").build());
        resource.setAdditionalProperty("spec", spec(r, object));
        return resource;
    }

    static Map<String, Object> spec(Reservation r, String object) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("cidr", r.cidr());
        spec.put("ipReservation", object);
        spec.put("namespace", r.namespace());
        spec.put("pod", r.pod());
        spec.put("uid", r.uid());
        spec.put("node", r.node());
        spec.put("reason", r.reason());
        spec.put("reservedAt", r.reservedAt().toString());
        if (r.goneAt() != null) {
            spec.put("goneAt", r.goneAt().toString());
        }
        if (r.ttl() != null) {
            spec.put("ttl", GoDuration.format(r.ttl()));
        }
        return spec;
    }

    /** The entry an object describes; null when it cannot be read (it then counts as absent and gets repaired). */
    public static Reservation from(GenericKubernetesResource resource) {
        if (!(resource.getAdditionalProperties().get("spec") instanceof Map<?, ?> spec)) {
            return null;
        }
        try {
            String cidr = Cidrs.normalize(String.valueOf(spec.get("cidr")));
            Instant reservedAt = Instant.parse(String.valueOf(spec.get("reservedAt")));
            Instant goneAt = spec.get("goneAt") == null ? null : Instant.parse(String.valueOf(spec.get("goneAt")));
            Duration ttl = spec.get("ttl") == null || String.valueOf(spec.get("ttl")).isBlank() ? null
                    : GoDuration.parse(String.valueOf(spec.get("ttl")));
            return new Reservation(cidr, text(spec, "namespace"), text(spec, "pod"), text(spec, "uid"),
                    text(spec, "node"), text(spec, "reason"), reservedAt, goneAt, ttl);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String text(Map<?, ?> spec, String key) {
        Object value = spec.get(key);
        return value == null ? "" : String.valueOf(value);
    }
}
