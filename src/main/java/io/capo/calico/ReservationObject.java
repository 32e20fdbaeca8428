package io.capo.calico;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capo.reservation.GoDuration;
import io.capo.reservation.Cidrs;
import io.capo.reservation.Reservation;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * A working copy of one Calico IPReservation: its {@code spec.reservedCIDRs} and a format marker, nothing per
 * address (Calico IPAM downloads the whole object on every assignment; the metadata lives in {@link ReservedIps}).
 * The object is Capo's: every CIDR in it is Capo's to hold and release. Objects of Capo's first format carry their
 * metadata in the annotation {@value #METADATA_ANNOTATION}, read here once for the migration.
 */
public final class ReservationObject {

    /** Capo's first format: the metadata of every entry in one annotation (read for the migration only). */
    public static final String METADATA_ANNOTATION = "capo.io/reservations";
    /** The format of an object Capo writes; objects without it are migrated (or adopted from the Go Capo). */
    public static final String FORMAT_ANNOTATION = "capo.io/format";
    public static final String FORMAT = "2";
    public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final String resourceVersion;
    private final ObjectMeta metadata;
    private final Map<String, Object> spec;
    private final LinkedHashSet<String> cidrs;

    private ReservationObject(String name, String resourceVersion, ObjectMeta metadata, Map<String, Object> spec,
                              Collection<String> cidrs) {
        this.name = name;
        this.resourceVersion = resourceVersion;
        this.metadata = metadata;
        this.spec = spec;
        this.cidrs = new LinkedHashSet<>(cidrs);
    }

    /** A new object, in the current format. */
    public static ReservationObject empty(String name) {
        return new ReservationObject(name, null, new ObjectMetaBuilder().withName(name)
                .addToLabels(MANAGED_BY_LABEL, "capo").addToAnnotations(FORMAT_ANNOTATION, FORMAT).build(),
                new LinkedHashMap<>(), List.of());
    }

    @SuppressWarnings("unchecked")
    public static ReservationObject from(GenericKubernetesResource resource) {
        ObjectMeta meta = resource.getMetadata();
        Object specValue = resource.getAdditionalProperties().get("spec");
        Map<String, Object> spec = specValue instanceof Map<?, ?> m ? new LinkedHashMap<>((Map<String, Object>) m)
                : new LinkedHashMap<>();
        List<String> cidrs = new ArrayList<>();
        if (spec.get("reservedCIDRs") instanceof List<?> list) {
            list.forEach(item -> cidrs.add(String.valueOf(item)));
        }
        return new ReservationObject(meta.getName(), meta.getResourceVersion(), meta, spec, cidrs);
    }

    /** A working copy to change. */
    public ReservationObject copy() {
        return new ReservationObject(name, resourceVersion, new ObjectMetaBuilder(metadata).build(),
                new LinkedHashMap<>(spec), cidrs);
    }

    public String name() {
        return name;
    }

    public String resourceVersion() {
        return resourceVersion;
    }

    public boolean exists() {
        return resourceVersion != null;
    }

    /** Whether the object is in the current format (nothing left to migrate or adopt). */
    public boolean current() {
        return FORMAT.equals(annotation(FORMAT_ANNOTATION)) && annotation(METADATA_ANNOTATION) == null;
    }

    public boolean containsCidr(String cidr) {
        return cidrs.contains(cidr);
    }

    public List<String> cidrs() {
        return List.copyOf(cidrs);
    }

    /** Whether the stored object has a {@code spec.reservedCIDRs} list to append to. */
    public boolean hasCidrList() {
        return spec.get("reservedCIDRs") instanceof List<?>;
    }

    public int size() {
        return cidrs.size();
    }

    /** Adds the CIDR; returns false when it was there already. */
    public boolean add(String cidr) {
        return cidrs.add(cidr);
    }

    public boolean remove(String cidr) {
        return cidrs.remove(cidr);
    }

    public void annotate(String key, String value) {
        Map<String, String> annotations = metadata.getAnnotations() == null ? new HashMap<>()
                : new HashMap<>(metadata.getAnnotations());
        if (value == null) {
            annotations.remove(key);
        } else {
            annotations.put(key, value);
        }
        metadata.setAnnotations(annotations);
    }

    public String annotation(String key) {
        return metadata.getAnnotations() == null ? null : metadata.getAnnotations().get(key);
    }

    /** The entries of Capo's first format (annotation {@value #METADATA_ANNOTATION}), by CIDR; empty without it. */
    public Map<String, Reservation> legacyEntries() {
        Map<String, Reservation> entries = decode(annotation(METADATA_ANNOTATION));
        entries.keySet().retainAll(cidrs);
        return entries;
    }

    /** The object to write, carrying the resourceVersion it was read at (optimistic lock). */
    public GenericKubernetesResource toResource(String apiVersion) {
        GenericKubernetesResource resource = new GenericKubernetesResource();
        resource.setApiVersion(apiVersion);
        resource.setKind("IPReservation");
        resource.setMetadata(new ObjectMetaBuilder(metadata).withName(name).withResourceVersion(resourceVersion)
                .build());
        Map<String, Object> newSpec = new LinkedHashMap<>(spec);
        newSpec.put("reservedCIDRs", List.copyOf(cidrs));
        resource.setAdditionalProperty("spec", newSpec);
        return resource;
    }

    /** Capo's first format, as it wrote it (kept for tests of the migration). */
    static String encode(Collection<Reservation> reservations) {
        ObjectNode root = JSON.createObjectNode();
        for (Reservation r : reservations) {
            ObjectNode node = root.putObject(r.cidr());
            node.put("namespace", r.namespace());
            node.put("pod", r.pod());
            node.put("uid", r.uid());
            node.put("node", r.node());
            node.put("reason", r.reason());
            node.put("reservedAt", r.reservedAt().toString());
            if (r.goneAt() != null) {
                node.put("goneAt", r.goneAt().toString());
            }
            if (r.ttl() != null) {
                node.put("ttl", GoDuration.format(r.ttl()));
            }
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Unreadable metadata is treated as absent: the entries then get repaired metadata and stay parked a full TTL. */
    static Map<String, Reservation> decode(String text) {
        Map<String, Reservation> out = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return out;
        }
        root.fields().forEachRemaining(field -> {
            try {
                JsonNode n = field.getValue();
                String cidr = Cidrs.normalize(field.getKey());
                Instant reservedAt = Instant.parse(n.path("reservedAt").asText());
                Instant goneAt = n.hasNonNull("goneAt") ? Instant.parse(n.get("goneAt").asText()) : null;
                Duration ttl = n.hasNonNull("ttl") ? GoDuration.parse(n.get("ttl").asText()) : null;
                out.put(cidr, new Reservation(cidr, n.path("namespace").asText(), n.path("pod").asText(),
                        n.path("uid").asText(), n.path("node").asText(), n.path("reason").asText(), reservedAt,
                        goneAt, ttl));
            } catch (RuntimeException skipped) {
                // one bad entry does not hide the others
            }
        });
        return out;
    }
}
