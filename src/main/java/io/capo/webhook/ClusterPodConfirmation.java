package io.capo.webhook;

import io.capo.reservation.Cidrs;
import io.capo.reservation.ClusterView;
import io.capo.reservation.PodFacts;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The cluster confirms a review's pod: the informer cache when it knows the pod with the same UID and addresses,
 * otherwise one GET on the API server decides (the pod is not cached yet, or the cache lags behind, e.g. an address
 * reported a moment ago). A pod the API server does not have, or has with another UID, or without every address the
 * review claims, is not confirmed. The review's names must be the oldObject's.
 */
public final class ClusterPodConfirmation implements PodConfirmation {

    private final ClusterView cluster;
    private final PodLookup api;

    public ClusterPodConfirmation(ClusterView cluster, PodLookup api) {
        this.cluster = cluster;
        this.api = api;
    }

    @Override
    public Result confirm(String namespace, String name, PodFacts claimed, Duration budget) {
        if (!namespace.equals(claimed.namespace()) || !name.equals(claimed.name())) {
            return Result.refused("name", "the review names " + namespace + "/" + name + ", its oldObject "
                    + claimed.key());
        }
        Optional<PodFacts> cached = cluster.pod(namespace, name);
        if (cached.isPresent() && compare(claimed, cached.get()).confirmed()) {
            return Result.CONFIRMED;
        }
        Optional<PodFacts> live = get(namespace, name, budget);
        if (live.isEmpty()) {
            return Result.refused("not-found", "the API server has no pod " + namespace + "/" + name);
        }
        return compare(claimed, live.get());
    }

    @Override
    public Optional<PodFacts> get(String namespace, String name, Duration budget) {
        try {
            return api.get(namespace, name).get(budget.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            throw new PodLookup.LookupFailedException("too many pod lookups under way", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PodLookup.LookupFailedException("interrupted while reading pod " + namespace + "/" + name, e);
        } catch (TimeoutException e) {
            throw new PodLookup.LookupFailedException("reading pod " + namespace + "/" + name
                    + " took longer than " + budget.toMillis() + " ms", e);
        } catch (ExecutionException e) {
            throw new PodLookup.LookupFailedException("cannot read pod " + namespace + "/" + name + ": "
                    + e.getCause().getMessage(), e.getCause());
        }
    }

    static Result compare(PodFacts claimed, PodFacts actual) {
        if (!claimed.uid().equals(actual.uid())) {
            return Result.refused("uid", "UID " + claimed.uid() + " claimed, the pod has " + actual.uid());
        }
        Set<String> held = cidrs(actual);
        Set<String> claimedCidrs = cidrs(claimed);
        if (!held.containsAll(claimedCidrs)) {
            return Result.refused("ip", "IPs " + claimedCidrs + " claimed, the pod has " + held);
        }
        return Result.CONFIRMED;
    }

    private static Set<String> cidrs(PodFacts pod) {
        return pod.ips().stream().map(Cidrs::tryNormalize).flatMap(Optional::stream).collect(Collectors.toSet());
    }
}
