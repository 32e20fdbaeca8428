package io.capo.kubernetes;

import io.capo.reservation.Cidrs;
import io.capo.reservation.Reservation;
import io.capo.reservation.ReservationReason;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Takes over the reservations of the Go Capo: its IPReservation (same name as Capo's first object) holds
 * bare IPs plus the sentinel {@code 1.1.1.1}, and its ConfigMap of the same name maps each IP to
 * {@code namespace_pod_node_yyyy-MM-dd-HH:mm:ss} in the controller's local time. The entries become Capo's,
 * normalized to host CIDRs, with their time to live counted from the Go Capo's timestamp.
 */
public final class GoCapoAdoption {

    public static final String ADOPTED_ANNOTATION = "capo.io/adopted-go-capo";
    static final String SENTINEL = "1.1.1.1";
    private static final Logger LOG = LoggerFactory.getLogger(GoCapoAdoption.class);
    private static final DateTimeFormatter GO_LAYOUT = DateTimeFormatter.ofPattern("yyyy-MM-dd-HH:mm:ss");

    private final KubernetesClient client;
    private final CalicoReservationStore store;
    private final String namespace;
    private final ZoneId zone;
    private final Clock clock;
    private volatile boolean done;

    public GoCapoAdoption(KubernetesClient client, CalicoReservationStore store, String namespace, ZoneId zone,
                          Clock clock) {
        this.client = client;
        this.store = store;
        this.namespace = namespace;
        this.zone = zone;
        this.clock = clock;
    }

    /** Adopts once per process; cheap afterwards. Failures are retried on the next call. */
    public void adoptOnce() throws Exception {
        if (done || !store.synced()) {
            return;
        }
        String name = store.objectNames().get(0);
        CalicoReservationStore.Snapshot snapshot = store.snapshot(name);
        if (snapshot == null || !needsAdoption(snapshot.view())) {
            done = true;
            return;
        }
        Map<String, String> ledger = Optional.ofNullable(namespace.isEmpty() ? null
                        : client.configMaps().inNamespace(namespace).withName(name).get())
                .map(ConfigMap::getData).orElse(Map.of());
        Instant now = clock.instant();
        int adopted = store.change(name, object -> adopt(object, ledger, now)).get(30, TimeUnit.SECONDS);
        LOG.info("adopted {} addresses from the Go Capo's IPReservation {} (ledger ConfigMap {}/{} with {} entries)",
                adopted, name, namespace, name, ledger.size());
        done = true;
    }

    static boolean needsAdoption(ReservationObject object) {
        return object.exists() && object.annotation(ADOPTED_ANNOTATION) == null
                && object.annotation(ReservationObject.METADATA_ANNOTATION) == null;
    }

    /** Rewrites the object in place; returns the number of adopted entries (at least 1 so the marker is written). */
    int adopt(ReservationObject object, Map<String, String> ledger, Instant now) {
        if (!needsAdoption(object)) {
            return 0;
        }
        int adopted = 0;
        for (String entry : List.copyOf(object.cidrs())) {
            String bare = Cidrs.address(entry);
            if (SENTINEL.equals(bare)) {
                object.removeForeign(entry);
                continue;
            }
            Optional<String> cidr = Cidrs.tryNormalize(entry);
            if (cidr.isEmpty()) {
                continue;
            }
            object.removeForeign(entry);
            object.put(fromLedger(cidr.get(), ledger.get(bare), now));
            adopted++;
        }
        object.annotate(ADOPTED_ANNOTATION, now.toString());
        return Math.max(adopted, 1);
    }

    Reservation fromLedger(String cidr, String value, Instant now) {
        String[] parts = value == null ? new String[0] : value.split("_");
        if (parts.length != 4) {
            return new Reservation(cidr, "", "", "", "", ReservationReason.ADOPTED, now, now, null);
        }
        Instant at;
        try {
            at = LocalDateTime.parse(parts[3], GO_LAYOUT).atZone(zone).toInstant();
        } catch (DateTimeParseException e) {
            at = now;
        }
        return new Reservation(cidr, parts[0], parts[1], "", parts[2], ReservationReason.ADOPTED, at, at, null);
    }
}
