package io.capo.kubernetes;

import io.capo.reservation.Reservation;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ReservationObjectTest {

    static final Instant T0 = Instant.parse("2026-11-26T10:00:00Z");

    @Test
    void metadataRoundTripsThroughTheAnnotation() {
        Reservation full = new Reservation("10.0.0.1/32", "kafka", "kafka-0", "uid", "node-1", "delete", T0,
                T0.plusSeconds(30), Duration.ofHours(2));
        Reservation minimal = new Reservation("fd00::1/128", "redis", "redis-0", "uid2", "", "late", T0, null, null);
        Map<String, Reservation> decoded = ReservationObject.decode(ReservationObject.encode(List.of(full, minimal)));
        assertThat(decoded).containsEntry("10.0.0.1/32", full).containsEntry("fd00::1/128", minimal);
    }

    @Test
    void unreadableMetadataHidesNothingElse() {
        assertThat(ReservationObject.decode("not json")).isEmpty();
        assertThat(ReservationObject.decode("{\"10.0.0.1/32\":{\"reservedAt\":\"yesterday\"},"
                + "\"10.0.0.2/32\":{\"reservedAt\":\"2026-11-26T10:00:00Z\",\"uid\":\"u\"}}"))
                .containsOnlyKeys("10.0.0.2/32");
    }

    @Test
    void writtenObjectCarriesEntriesMetadataAndResourceVersion() {
        ReservationObject object = ReservationObject.empty("ip-reserve-delay-release");
        object.put(new Reservation("10.0.0.1/32", "kafka", "kafka-0", "uid", "n", "delete", T0, null, null));
        var resource = object.toResource("projectcalico.org/v3");
        assertThat(resource.getKind()).isEqualTo("IPReservation");
        assertThat(resource.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "capo");
        assertThat(resource.getMetadata().getResourceVersion()).isNull();
        ReservationObject back = ReservationObject.from(resource);
        assertThat(back.cidrs()).containsExactly("10.0.0.1/32");
        assertThat(back.entries()).hasSize(1);
    }

    @Test
    void metadataSizeIsKeptUpToDateThroughChanges() {
        ReservationObject object = ReservationObject.empty("ip-reserve-delay-release");
        object.metadataBytes();
        for (int i = 1; i <= 50; i++) {
            object.put(new Reservation("10.0.1." + i + "/32", "kafka", "kafka-" + i, "uid-" + i, "node-1", "delete",
                    T0, null, null));
        }
        object.put(new Reservation("10.0.1.7/32", "kafka", "kafka-7", "uid-7", "node-1", "delete", T0,
                T0.plusSeconds(9), Duration.ofMinutes(5)));
        object.remove("10.0.1.9/32");
        object.removeForeign("10.0.1.10/32");
        int exact = ReservationObject.encode(object.entries()).length();
        assertThat(object.metadataBytes()).isBetween(exact, exact + 1);
        assertThat(object.copy().metadataBytes()).isEqualTo(object.metadataBytes());
    }

    @Test
    void entriesWithNamesAtTheLengthLimitsStopFittingBeforeKubernetesRefusesTheObject() {
        ReservationObject object = ReservationObject.empty("ip-reserve-delay-release");
        object.annotate("kubectl.kubernetes.io/last-applied-configuration", "x".repeat(2000));
        int accepted = 0;
        for (int i = 0; i < 900; i++) {
            Reservation entry = new Reservation("10.2." + (i / 250) + "." + (i % 250 + 1) + "/32", "n".repeat(63),
                    "p".repeat(240) + String.format("%013d", i), "0f6f8a3e-1c9b-4a57-9d3c-" + String.format("%012d", i),
                    "k".repeat(253), "eviction", T0, null, Duration.ofHours(1));
            if (!object.fits(entry)) {
                break;
            }
            object.put(entry);
            accepted++;
        }
        assertThat(accepted).as("about 700 bytes each").isBetween(300, 400);
        // once every pod is gone (goneAt set), the object still fits Kubernetes' limit
        for (Reservation r : List.copyOf(object.entries())) {
            object.put(r.withGoneAt(T0.plusSeconds(60)));
        }
        var annotations = object.toResource("projectcalico.org/v3").getMetadata().getAnnotations();
        long total = annotations.entrySet().stream().mapToLong(a -> a.getKey().length() + a.getValue().length()).sum();
        assertThat(total).isLessThanOrEqualTo(ReservationObject.ANNOTATIONS_LIMIT);
        assertThat(object.annotationBytes()).isBetween((int) total, (int) total + 1);
    }
}
