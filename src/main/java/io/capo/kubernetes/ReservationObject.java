package io.capo.kubernetes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capo.config.GoDuration;
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
import java.util.TreeMap;

/**
 * A working copy of one Calico IPReservation: its {@code spec.reservedCIDRs} plus Capo's metadata for the
 * entries it added, kept in the annotation {@value #METADATA_ANNOTATION} so that both change in one write.
 * Entries without metadata belong to someone else and are carried through untouched.
 */
public final class ReservationObject {

    public static final String METADATA_ANNOTATION = "capo.io/reservations";
    public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    /** Kubernetes' limit on the total size of an object's annotations (keys and values). */
    public static final int ANNOTATIONS_LIMIT = 256 * 1024;
    /** Kept free below the limit, for annotations others add (kubectl, tools) after Capo's last look. */
    static final int ANNOTATIONS_MARGIN = 4 * 1024;
    /** What a {@code goneAt} adds to an entry at most: {@code ,"goneAt":"2026-11-26T10:00:00.123456789Z"}. */
    static final int GONE_AT_BYTES = 42;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final String resourceVersion;
    private final ObjectMeta metadata;
    private final Map<String, Object> spec;
    private final LinkedHashSet<String> cidrs;
    private final TreeMap<String, Reservation> entries;
    /** Size of the encoded metadata annotation, computed on first use and then kept up to date; -1: not yet. */
    private int metadataBytes = -1;
    /** Entries without a gone time yet (each will grow by one), kept like {@link #metadataBytes}. */
    private int pendingGone = -1;

    private ReservationObject(String name, String resourceVersion, ObjectMeta metadata, Map<String, Object> spec,
                              Collection<String> cidrs, Map<String, Reservation> entries) {
        this.name = name;
        this.resourceVersion = resourceVersion;
        this.metadata = metadata;
        this.spec = spec;
        this.cidrs = new LinkedHashSet<>(cidrs);
        this.entries = new TreeMap<>(entries);
    }

    public static ReservationObject empty(String name) {
        return new ReservationObject(name, null, new ObjectMetaBuilder().withName(name)
                .addToLabels(MANAGED_BY_LABEL, "capo").build(), new LinkedHashMap<>(), List.of(), Map.of());
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
        Map<String, Reservation> entries = decode(meta.getAnnotations() == null ? null
                : meta.getAnnotations().get(METADATA_ANNOTATION));
        // metadata whose CIDR was removed by hand is no longer Capo's to hold
        entries.keySet().retainAll(new LinkedHashSet<>(cidrs));
        return new ReservationObject(meta.getName(), meta.getResourceVersion(), meta, spec, cidrs, entries);
    }

    /**
     * A working copy to change, without decoding the metadata annotation again (a full object holds about 250 KB of
     * it, and every write starts from the last known state).
     */
    public ReservationObject copy() {
        ReservationObject copy = new ReservationObject(name, resourceVersion, new ObjectMetaBuilder(metadata).build(),
                new LinkedHashMap<>(spec), cidrs, entries);
        copy.metadataBytes = metadataBytes();
        copy.pendingGone = pendingGone();
        return copy;
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

    /** Capo's entries in this object. */
    public Collection<Reservation> entries() {
        return entries.values();
    }

    public Reservation entry(String cidr) {
        return entries.get(cidr);
    }

    public boolean containsCidr(String cidr) {
        return cidrs.contains(cidr);
    }

    public List<String> cidrs() {
        return List.copyOf(cidrs);
    }

    public int size() {
        return entries.size();
    }

    /** Adds or replaces Capo's entry for the CIDR. */
    public void put(Reservation reservation) {
        cidrs.add(reservation.cidr());
        Reservation before = entries.put(reservation.cidr(), reservation);
        if (metadataBytes >= 0) {
            metadataBytes += entryBytes(reservation) - (before == null ? 0 : entryBytes(before));
        }
        if (pendingGone >= 0) {
            pendingGone += (reservation.goneAt() == null ? 1 : 0) - (before != null && before.goneAt() == null ? 1 : 0);
        }
    }

    /** Removes Capo's entry for the CIDR; entries of others are never removed here. */
    public boolean remove(String cidr) {
        Reservation before = entries.remove(cidr);
        if (before == null) {
            return false;
        }
        cidrs.remove(cidr);
        if (metadataBytes >= 0) {
            metadataBytes -= entryBytes(before);
        }
        if (pendingGone >= 0 && before.goneAt() == null) {
            pendingGone--;
        }
        return true;
    }

    /** Removes a CIDR whatever its owner; only for adopting the Go Capo's object. */
    public void removeForeign(String cidr) {
        if (!remove(cidr)) {
            cidrs.remove(cidr);
        }
    }

    /**
     * Whether a new entry still fits under Kubernetes' annotation limit, counting the object's other annotations,
     * every entry as it will be once its pod is gone (each gets a {@code goneAt} then), and a margin.
     */
    public boolean fits(Reservation entry) {
        long grown = annotationBytes() + (long) pendingGone() * GONE_AT_BYTES + entryBytes(entry)
                + (entry.goneAt() == null ? GONE_AT_BYTES : 0);
        return grown <= ANNOTATIONS_LIMIT - ANNOTATIONS_MARGIN;
    }

    /** Size of all annotations as they would be written: others' plus Capo's metadata. */
    public int annotationBytes() {
        int others = 0;
        if (metadata.getAnnotations() != null) {
            for (Map.Entry<String, String> a : metadata.getAnnotations().entrySet()) {
                if (!a.getKey().equals(METADATA_ANNOTATION)) {
                    others += a.getKey().length() + (a.getValue() == null ? 0 : a.getValue().length());
                }
            }
        }
        return others + METADATA_ANNOTATION.length() + metadataBytes();
    }

    /** What one entry adds to the metadata annotation: {@code "cidr":{...}} and a comma. */
    static int entryBytes(Reservation r) {
        return encode(List.of(r)).length() - 1;
    }

    public void annotate(String key, String value) {
        Map<String, String> annotations = metadata.getAnnotations() == null ? new HashMap<>()
                : new HashMap<>(metadata.getAnnotations());
        annotations.put(key, value);
        metadata.setAnnotations(annotations);
    }

    public String annotation(String key) {
        return metadata.getAnnotations() == null ? null : metadata.getAnnotations().get(key);
    }

    /** The object to write, carrying the resourceVersion it was read at (optimistic lock). */
    public GenericKubernetesResource toResource(String apiVersion) {
        GenericKubernetesResource resource = new GenericKubernetesResource();
        resource.setApiVersion(apiVersion);
        resource.setKind("IPReservation");
        ObjectMeta meta = new ObjectMetaBuilder(metadata).withName(name).withResourceVersion(resourceVersion).build();
        Map<String, String> annotations = meta.getAnnotations() == null ? new HashMap<>()
                : new HashMap<>(meta.getAnnotations());
        annotations.put(METADATA_ANNOTATION, encode(entries.values()));
        meta.setAnnotations(annotations);
        resource.setMetadata(meta);
        Map<String, Object> newSpec = new LinkedHashMap<>(spec);
        newSpec.put("reservedCIDRs", List.copyOf(cidrs));
        resource.setAdditionalProperty("spec", newSpec);
        return resource;
    }

    private int pendingGone() {
        int count = pendingGone;
        if (count < 0) {
            count = (int) entries.values().stream().filter(r -> r.goneAt() == null).count();
            pendingGone = count;
        }
        return count;
    }

    /** Size in bytes of the metadata annotation as it would be written (computed once, then kept up to date). */
    public int metadataBytes() {
        int bytes = metadataBytes;
        if (bytes < 0) {
            bytes = encode(entries.values()).length();
            metadataBytes = bytes; // a benign race on a shared snapshot: every thread computes the same value
        }
        return bytes;
    }

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

    /** Unreadable metadata is treated as absent: the entries then count as someone else's and stay parked. */
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
