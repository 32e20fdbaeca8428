package io.capo.calico;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Brings older objects into Capo's current format (the release route calls it before each cycle on the leader;
 * after the first start it only looks, unless a replica of an earlier Capo wrote its format back during a rolling
 * upgrade):
 * <ul>
 *   <li>Capo's first format kept the metadata of every entry in the annotation
 *   {@value ReservationObject#METADATA_ANNOTATION} of the IPReservation: each entry becomes a ReservedIP (keeping
 *   its times), then the annotation is dropped.</li>
 *   <li>The Go Capo's IPReservation (same name as Capo's first object) holds bare IPs plus the sentinel
 *   {@code 1.1.1.1}, and its ConfigMap of the same name maps each IP to
 *   {@code namespace_pod_node_yyyy-MM-dd-HH:mm:ss} in the controller's local time. The entries become Capo's,
 *   normalized to host CIDRs (first write), then get ReservedIPs with their time to live counted from the Go Capo's
 *   timestamp (second write).</li>
 * </ul>
 * A crash between the two steps is safe: the annotation is still there and the migration runs again, or the
 * adopted CIDRs lack metadata and the leader's repair holds them a full time to live.
 */
public final class GoCapoAdoption {

    public static final String ADOPTED_ANNOTATION = "capo.io/adopted-go-capo";
    static final String SENTINEL = "1.1.1.1";
    private static final Logger LOG = LoggerFactory.getLogger(GoCapoAdoption.class);
    private static final DateTimeFormatter GO_LAYOUT = DateTimeFormatter.ofPattern("yyyy-MM-dd-HH:mm:ss");
    private static final long WRITE_TIMEOUT_SECONDS = 60;

    private final KubernetesClient client;
    private final CalicoReservationStore store;
    private final String namespace;
    private final ZoneId zone;
    private final Clock clock;

    public GoCapoAdoption(KubernetesClient client, CalicoReservationStore store, String namespace, ZoneId zone,
                          Clock clock) {
        this.client = client;
        this.store = store;
        this.namespace = namespace;
        this.zone = zone;
        this.clock = clock;
    }

    /**
     * Migrates and adopts every object that is not in the current format. After the first start that is a look at
     * each snapshot per cycle, and work only when a replica of an earlier Capo wrote its format back during a
     * rolling upgrade. Failures are retried on the next call.
     */
    public void adoptOnce() throws Exception {
        if (!store.synced()) {
            return;
        }
        List<String> names = store.objectNames();
        for (String name : names) {
            Snapshot snapshot = store.objects().snapshot(name);
            if (snapshot == null || snapshot.view().current()) {
                continue;
            }
            if (name.equals(names.get(0)) && needsAdoption(snapshot.view())) {
                adoptGoCapo(name);
            } else {
                migrate(name, snapshot.view());
            }
        }
    }

    /** The Go Capo's object: no format marker and no trace of Capo. */
    static boolean needsAdoption(ReservationObject object) {
        return object.exists() && object.annotation(ReservationObject.FORMAT_ANNOTATION) == null
                && object.annotation(ADOPTED_ANNOTATION) == null
                && object.annotation(ReservationObject.METADATA_ANNOTATION) == null;
    }

    private void migrate(String name, ReservationObject view) throws Exception {
        Map<String, Reservation> entries = view.legacyEntries();
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (Reservation entry : entries.values()) {
            if (store.metadata(entry.cidr()) == null) {
                writes.add(store.putMetadata(entry, name));
            }
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        store.change(name, object -> {
            if (object.current()) {
                return 0;
            }
            object.annotate(ReservationObject.METADATA_ANNOTATION, null);
            object.annotate(ReservationObject.FORMAT_ANNOTATION, ReservationObject.FORMAT);
            return 1;
        }).get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        LOG.info("migrated IPReservation {} to format {}: {} entries moved to ReservedIP objects", name,
                ReservationObject.FORMAT, entries.size());
    }

    private void adoptGoCapo(String name) throws Exception {
        Map<String, String> ledger = Optional.ofNullable(namespace.isEmpty() ? null
                        : client.configMaps().inNamespace(namespace).withName(name).get())
                .map(ConfigMap::getData).orElse(Map.of());
        Instant now = clock.instant();
        AtomicReference<List<Reservation>> adopted = new AtomicReference<>(List.of());
        store.change(name, object -> {
            List<Reservation> entries = new ArrayList<>();
            int changed = adopt(object, ledger, now, entries);
            adopted.set(entries);
            return changed;
        }).get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (Reservation entry : adopted.get()) {
            writes.add(store.putMetadata(entry, name));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        LOG.info("adopted {} addresses from the Go Capo's IPReservation {} (ledger ConfigMap {}/{} with {} entries)",
                adopted.get().size(), name, namespace, name, ledger.size());
    }

    /**
     * Rewrites the Go Capo's object in place (normalized CIDRs, no sentinel, format marker) and collects the adopted
     * entries; returns at least 1 so that the marker is written, 0 when there is nothing to adopt.
     */
    int adopt(ReservationObject object, Map<String, String> ledger, Instant now, List<Reservation> adopted) {
        if (!needsAdoption(object)) {
            return 0;
        }
        for (String entry : List.copyOf(object.cidrs())) {
            String bare = Cidrs.address(entry);
            if (SENTINEL.equals(bare)) {
                object.remove(entry);
                continue;
            }
            Optional<String> cidr = Cidrs.tryNormalize(entry);
            if (cidr.isEmpty()) {
                continue;
            }
            object.remove(entry);
            object.add(cidr.get());
            adopted.add(fromLedger(cidr.get(), ledger.get(bare), now));
        }
        object.annotate(ADOPTED_ANNOTATION, now.toString());
        object.annotate(ReservationObject.FORMAT_ANNOTATION, ReservationObject.FORMAT);
        return Math.max(adopted.size(), 1);
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
