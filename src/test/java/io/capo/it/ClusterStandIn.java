package io.capo.it;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIPBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The parts of a cluster the test bed lacks, for one namespace of StatefulSet-style pods on Calico IPAM:
 * <ul>
 *   <li>a StatefulSet controller and scheduler: a pod of a set that is gone is created again under its name and
 *       bound round-robin to a live node;</li>
 *   <li>a kubelet per node: calls calico-ipam ADD for a new pod and reports the address in the pod's status; on a
 *       graceful deletion calls DEL, then deletes the pod for good; on a pod removed outright (force delete, pod GC
 *       after a node deletion) calls DEL, as the runtime or calico-kube-controllers would.</li>
 * </ul>
 * It keeps a ledger of which pod held which address when, to count IP swaps: a pod receiving an address that a pod
 * of another identity (namespace/name) held within the hold time.
 */
final class ClusterStandIn implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterStandIn.class);

    private final KubernetesClient client;
    private final CalicoIpam ipam;
    private final String namespace;
    private final List<String> pools;
    private final Duration hold;
    private final List<String> liveNodes = new CopyOnWriteArrayList<>();
    private final Set<String> wanted = ConcurrentHashMap.newKeySet();
    private final Map<String, Sandbox> sandboxes = new ConcurrentHashMap<>();   // by pod UID
    private final Map<String, List<Holding>> ledger = new HashMap<>();          // by address
    private final List<String> swaps = new ArrayList<>();
    private final AtomicInteger nextNode = new AtomicInteger();
    private final AtomicInteger assignments = new AtomicInteger();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final ExecutorService work = Executors.newFixedThreadPool(4);
    private final SharedIndexInformer<Pod> informer;

    private record Sandbox(CalicoIpam.Sandbox cni, String identity, List<String> ips, AtomicBoolean released) {
    }

    private record Holding(String identity, Instant from, Instant[] until) {
    }

    ClusterStandIn(KubernetesClient client, CalicoIpam ipam, String namespace, List<String> nodes,
                   List<String> pools, Duration hold) {
        this.client = client;
        this.ipam = ipam;
        this.namespace = namespace;
        this.pools = pools;
        this.hold = hold;
        this.liveNodes.addAll(nodes);
        this.informer = client.pods().inNamespace(namespace).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                react(pod);
            }

            @Override
            public void onUpdate(Pod old, Pod pod) {
                react(pod);
            }

            @Override
            public void onDelete(Pod pod, boolean unknown) {
                work.submit(() -> gone(pod));
            }
        });
    }

    /** Creates the set's pods (names {@code <set>-0..n-1}) and keeps them: a pod that is gone comes back. */
    void statefulSet(String set, int replicas) {
        for (int i = 0; i < replicas; i++) {
            String name = set + "-" + i;
            wanted.add(name);
            create(name);
        }
    }

    Set<String> podNames() {
        return Set.copyOf(wanted);
    }

    /** The node is gone: nothing binds there any more (its kubelet stops with it). */
    void nodeGone(String node) {
        liveNodes.remove(node);
    }

    private void create(String name) {
        String node = liveNodes.get(Math.floorMod(nextNode.getAndIncrement(), liveNodes.size()));
        try {
            client.pods().inNamespace(namespace).resource(new PodBuilder()
                    .withNewMetadata().withNamespace(namespace).withName(name)
                    .addToLabels(ItSupport.STATEFUL_LABEL, name)
                    .addToLabels("app", name.substring(0, name.lastIndexOf('-'))).endMetadata()
                    .withNewSpec().withNodeName(node).withTerminationGracePeriodSeconds(30L)
                    .addNewContainer().withName("redis").withImage("redis").endContainer().endSpec().build())
                    .create();
        } catch (KubernetesClientException e) {
            failures.add("create " + name + ": " + e.getMessage());
        }
    }

    private void react(Pod pod) {
        String uid = pod.getMetadata().getUid();
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            work.submit(() -> terminate(pod));
        } else if (!sandboxes.containsKey(uid) && liveNodes.contains(pod.getSpec().getNodeName())
                && (pod.getStatus() == null || pod.getStatus().getPodIP() == null)) {
            CalicoIpam.Sandbox cni = new CalicoIpam.Sandbox(pod.getSpec().getNodeName(), namespace,
                    pod.getMetadata().getName(), "c" + uid.replace("-", ""));
            if (sandboxes.putIfAbsent(uid, new Sandbox(cni, identity(pod), new CopyOnWriteArrayList<>(),
                    new AtomicBoolean())) == null) {
                work.submit(() -> start(pod, cni));
            }
        }
    }

    private static String identity(Pod pod) {
        return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    }

    /** Kubelet: sandbox up, address from calico-ipam, pod reported running with it. */
    private void start(Pod pod, CalicoIpam.Sandbox cni) {
        String uid = pod.getMetadata().getUid();
        try {
            List<String> ips = ipam.add(cni, pools, List.of());
            Pod current = client.pods().inNamespace(namespace).withName(cni.pod()).get();
            if (current == null || !uid.equals(current.getMetadata().getUid())
                    || current.getMetadata().getDeletionTimestamp() != null) {
                release(uid);   // deleted while its sandbox came up: it never ran with the address
                return;
            }
            String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
            current.setStatus(new PodStatusBuilder().withPhase("Running").withHostIP("192.168.0.1")
                    .withStartTime(now).withPodIP(ips.get(0))
                    .withPodIPs(ips.stream().map(ip -> new PodIPBuilder().withIp(ip).build()).toList())
                    .withConditions(new PodConditionBuilder().withType("Ready").withStatus("True")
                            .withLastTransitionTime(now).build())
                    .withContainerStatuses(new ContainerStatusBuilder().withName("redis").withImage("redis")
                            .withImageID("redis").withReady(true).withRestartCount(0).withStarted(true)
                            .withNewState().withNewRunning().withStartedAt(now).endRunning().endState().build())
                    .build());
            record(uid, ips);
            client.pods().inNamespace(namespace).resource(current).updateStatus();
        } catch (RuntimeException e) {
            if (podExists(cni.pod(), uid)) {
                failures.add("start " + cni + ": " + e);
            }
            release(uid);
        }
    }

    private boolean podExists(String name, String uid) {
        Pod pod = client.pods().inNamespace(namespace).withName(name).get();
        return pod != null && uid.equals(pod.getMetadata().getUid()) && pod.getMetadata().getDeletionTimestamp() == null;
    }

    /** Kubelet on a graceful deletion: containers stopped, sandbox torn down (DEL), then the final delete. */
    private void terminate(Pod pod) {
        if (!liveNodes.contains(pod.getSpec().getNodeName())) {
            return;   // no kubelet there: pod GC removes it
        }
        release(pod.getMetadata().getUid());
        try {
            client.pods().inNamespace(namespace).resource(pod).withGracePeriod(0).delete();
        } catch (KubernetesClientException e) {
            LOG.debug("final delete of {}: {}", identity(pod), e.getMessage());
        }
    }

    /** The pod object is gone: its sandbox is torn down (if not yet) and the StatefulSet creates it again. */
    private void gone(Pod pod) {
        release(pod.getMetadata().getUid());
        if (wanted.contains(pod.getMetadata().getName())) {
            create(pod.getMetadata().getName());
        }
    }

    private void release(String uid) {
        Sandbox sandbox = sandboxes.get(uid);
        if (sandbox == null) {
            return;
        }
        synchronized (sandbox) {
            if (sandbox.released().get()) {
                return;
            }
            try {
                ipam.del(sandbox.cni(), pools, List.of());
            } catch (RuntimeException e) {
                failures.add("del " + sandbox.cni() + ": " + e);
                return;
            }
            Instant now = Instant.now();
            synchronized (ledger) {
                for (String ip : sandbox.ips()) {
                    for (Holding h : ledger.getOrDefault(ip, List.of())) {
                        if (h.identity().equals(sandbox.identity()) && h.until()[0] == null) {
                            h.until()[0] = now;
                        }
                    }
                }
            }
            sandbox.released().set(true);
        }
    }

    private void record(String uid, List<String> ips) {
        Sandbox sandbox = sandboxes.get(uid);
        Instant now = Instant.now();
        synchronized (ledger) {
            for (String ip : ips) {
                List<Holding> history = ledger.computeIfAbsent(ip, k -> new ArrayList<>());
                // one swap per assignment: the latest other holder within the hold time
                for (int i = history.size() - 1; i >= 0; i--) {
                    Holding h = history.get(i);
                    boolean recent = h.until()[0] == null || h.until()[0].isAfter(now.minus(hold));
                    if (!h.identity().equals(sandbox.identity()) && recent) {
                        swaps.add(ip + ": " + h.identity() + " -> " + sandbox.identity());
                        break;
                    }
                }
                history.add(new Holding(sandbox.identity(), now, new Instant[1]));
            }
            sandbox.ips().addAll(ips);
        }
        assignments.incrementAndGet();
    }

    /** Every wanted pod exists, is new since {@code before} (UIDs), runs and reports an address. */
    boolean settled(Set<String> before) {
        List<Pod> pods = client.pods().inNamespace(namespace).list().getItems().stream()
                .filter(p -> wanted.contains(p.getMetadata().getName())).toList();   // not the webhook's canary
        Set<String> names = new java.util.HashSet<>();
        pods.forEach(p -> names.add(p.getMetadata().getName()));
        return names.equals(wanted) && pods.stream().allMatch(p -> p.getMetadata().getDeletionTimestamp() == null
                && !before.contains(p.getMetadata().getUid()) && p.getStatus() != null
                && p.getStatus().getPodIP() != null);
    }

    Set<String> uids() {
        Set<String> uids = ConcurrentHashMap.newKeySet();
        client.pods().inNamespace(namespace).list().getItems().forEach(p -> uids.add(p.getMetadata().getUid()));
        return uids;
    }

    List<String> swaps() {
        synchronized (ledger) {
            return List.copyOf(swaps);
        }
    }

    /** Swaps between the sets (a pod getting an address of the other set's pod). */
    long crossSetSwaps() {
        return swaps().stream().filter(s -> {
            String[] parts = s.substring(s.indexOf(": ") + 2).split(" -> ");
            return !set(parts[0]).equals(set(parts[1]));
        }).count();
    }

    private static String set(String identity) {
        return identity.substring(0, identity.lastIndexOf('-'));
    }

    int assignments() {
        return assignments.get();
    }

    int distinctAddresses() {
        synchronized (ledger) {
            return ledger.size();
        }
    }

    List<String> failures() {
        return List.copyOf(failures);
    }

    @Override
    public void close() throws InterruptedException {
        wanted.clear();
        informer.close();
        work.shutdown();
        work.awaitTermination(60, TimeUnit.SECONDS);
    }
}
