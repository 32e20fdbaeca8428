package io.capo.calico;

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
    void writtenObjectCarriesCidrsAndTheFormatMarkerOnly() {
        ReservationObject object = ReservationObject.empty("ip-reserve-delay-release");
        object.add("10.0.0.1/32");
        var resource = object.toResource("projectcalico.org/v3");
        assertThat(resource.getKind()).isEqualTo("IPReservation");
        assertThat(resource.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "capo");
        assertThat(resource.getMetadata().getAnnotations()).containsOnly(
                Map.entry(ReservationObject.FORMAT_ANNOTATION, ReservationObject.FORMAT));
        assertThat(resource.getMetadata().getResourceVersion()).isNull();
        ReservationObject back = ReservationObject.from(resource);
        assertThat(back.cidrs()).containsExactly("10.0.0.1/32");
        assertThat(back.current()).isTrue();
    }

    @Test
    void anObjectOfTheFirstFormatIsNotCurrentAndYieldsItsEntries() {
        ReservationObject object = ReservationObject.empty("ip-reserve-delay-release");
        Reservation entry = new Reservation("10.0.0.1/32", "kafka", "kafka-0", "uid", "n", "delete", T0, null, null);
        object.add("10.0.0.1/32");
        object.add("10.0.0.2/32");
        object.annotate(ReservationObject.METADATA_ANNOTATION, ReservationObject.encode(List.of(entry,
                new Reservation("10.9.9.9/32", "gone", "gone-0", "u9", "n", "delete", T0, T0, null))));
        assertThat(object.current()).isFalse();
        // metadata whose CIDR was removed by hand is no longer Capo's
        assertThat(object.legacyEntries()).containsOnly(Map.entry("10.0.0.1/32", entry));
        object.annotate(ReservationObject.METADATA_ANNOTATION, null);
        assertThat(object.current()).isTrue();
    }
}
