package io.capo.runtime;

import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.spi.Resource;
import org.apache.camel.spi.RoutesLoader;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Applies the route files of a directory to the running context. Camel's own reload does not notice a
 * ConfigMap update (the kubelet swaps the {@code ..data} symlink), and a broken file must never cost the
 * routes that run: every file is parsed first, and a set that fails to start is rolled back to the last
 * good one. A set that {@link RouteChangeCheck} refuses (no files, an emptied file, a required route gone) is
 * refused the same way. Each refusal is one WARN line and one count. Only the routes of files that changed are
 * re-created: re-creating the webhook route for a change of the release route would answer the API server's calls
 * with 404 for a moment, and with {@code failurePolicy: Fail} that refuses deletions.
 */
public final class RoutesReloader {


    private static final Logger LOG = LoggerFactory.getLogger(RoutesReloader.class);

    private final CamelContext context;
    private final Path directory;
    private final Consumer<String> refusals;
    private List<Resource> lastGood;
    private final java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * @param directory the route directory, or null for the routes bundled in the jar (refresh only)
     * @param refusals  told the reason of each refused change
     */
    public RoutesReloader(CamelContext context, Path directory, Consumer<String> refusals) {
        this.context = context;
        this.directory = directory;
        this.refusals = refusals;
    }

    /** How many route changes were refused since start. */
    public int refusedChanges() {
        return refused.get();
    }

    /** Remembers what is running now, as the state to roll back to. */
    public synchronized void init() throws IOException {
        lastGood = read();
    }

    /** Reloads the directory; returns false when the change was refused. */
    public synchronized boolean reload() {
        List<Resource> next;
        Optional<RouteChangeCheck.Refusal> refusal;
        try {
            next = read();
            Map<String, String> contents = new LinkedHashMap<>();
            next.forEach(resource -> contents.put(resource.getLocation(), content(resource)));
            refusal = RouteChangeCheck.content(directory.toString(), contents);
            if (refusal.isEmpty()) {
                refusal = RouteChangeCheck.required(validate(next));
            }
        } catch (Exception e) {
            next = null;
            refusal = Optional.of(new RouteChangeCheck.Refusal(RouteChangeCheck.INVALID, message(e)));
        }
        if (refusal.isPresent()) {
            refuse(refusal.get().reason(), "route change in {} refused ({}), the current routes keep running: {}",
                    refusal.get().message());
            return false;
        }
        try {
            applyChanges(lastGood, next);
            lastGood = next;
            LOG.info("routes reloaded from {}: {}", directory, context.getRoutes().stream().map(Route::getRouteId).toList());
            return true;
        } catch (Exception e) {
            try {
                applyChanges(next, lastGood);
            } catch (Exception again) {
                refused.incrementAndGet();
                refusals.accept(RouteChangeCheck.START_FAILED);
                LOG.error("routes from {} failed to start ({}), and restoring the previous routes failed: {}",
                        directory, message(e), message(again), again);
                return false;
            }
            // counted once the previous routes run again
            refuse(RouteChangeCheck.START_FAILED, "route change in {} refused ({}), the new routes failed to start "
                    + "and the previous routes run again: {}", message(e));
            return false;
        }
    }

    private void refuse(String reason, String format, String why) {
        refused.incrementAndGet();
        refusals.accept(reason);
        LOG.warn(format, directory, reason, why);
    }

    /**
     * Re-creates the running routes from the same files, so that changed property placeholders
     * (e.g. the release period from the config file) take effect.
     */
    public synchronized void refresh() {
        try {
            if (lastGood == null) {
                lastGood = context.getRoutes().stream().map(Route::getSourceResource)
                        .filter(java.util.Objects::nonNull).distinct().toList();
            }
            // only files with placeholders can change; the others (the webhook route) keep serving
            List<Resource> withPlaceholders = new ArrayList<>();
            for (Resource resource : lastGood) {
                if (content(resource).contains("{{")) {
                    withPlaceholders.add(resource);
                }
            }
            PluginHelper.getRoutesLoader(context).updateRoutes(withPlaceholders);
        } catch (Exception e) {
            LOG.error("refreshing routes failed: {}", message(e), e);
        }
    }

    private List<Resource> read() throws IOException {
        List<Resource> resources = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                if (name.startsWith("..") || !(name.endsWith(".yaml") || name.endsWith(".yml"))
                        || !Files.isRegularFile(file)) {
                    continue;
                }
                resources.add(ResourceHelper.fromString("file:" + file.toAbsolutePath(), Files.readString(file)));
            }
        }
        return resources;
    }

    /**
     * Parses every file into route definitions without touching the running context; returns the {@code from} URI
     * of each route by id.
     */
    private Map<String, String> validate(List<Resource> resources) throws Exception {
        RoutesLoader loader = PluginHelper.getRoutesLoader(context);
        Map<String, String> fromById = new LinkedHashMap<>();
        for (Resource resource : resources) {
            try {
                for (RoutesBuilder builder : loader.findRoutesBuilders(List.of(resource))) {
                    if (builder instanceof RouteBuilder routeBuilder) {
                        routeBuilder.configureRoutes(context).getRoutes().forEach(route -> fromById.put(
                                route.getRouteId(), route.getInput() == null ? null : route.getInput().getEndpointUri()));
                    }
                }
            } catch (Exception e) {
                throw new IllegalArgumentException(resource.getLocation() + ": " + message(e), e);
            }
        }
        return fromById;
    }

    /**
     * Goes from one set of files to another: re-creates the routes of new and changed files and removes those of
     * deleted files (and routes a changed file no longer defines). Routes of unchanged files are not touched.
     */
    private void applyChanges(List<Resource> from, List<Resource> to) throws Exception {
        Map<String, String> previous = new HashMap<>();
        for (Resource resource : from) {
            previous.put(resource.getLocation(), content(resource));
        }
        List<Resource> changed = new ArrayList<>();
        for (Resource resource : to) {
            if (!content(resource).equals(previous.remove(resource.getLocation()))) {
                changed.add(resource);
            }
        }
        Set<String> affected = new LinkedHashSet<>(previous.keySet());
        changed.forEach(r -> affected.add(r.getLocation()));
        Set<String> ids = new LinkedHashSet<>();
        for (Route route : context.getRoutes()) {
            if (route.getSourceResource() != null && affected.contains(route.getSourceResource().getLocation())) {
                ids.add(route.getRouteId());
            }
        }
        Set<String> after = PluginHelper.getRoutesLoader(context).updateRoutes(changed);
        remove(ids, after);
        LOG.info("route files changed: {}; removed: {}", changed.stream().map(Resource::getLocation).toList(),
                previous.keySet());
    }

    private void remove(Set<String> candidates, Set<String> keep) throws Exception {
        for (String id : candidates) {
            if (!keep.contains(id)) {
                context.getRouteController().stopRoute(id);
                context.removeRoute(id);
                LOG.info("route {} removed", id);
            }
        }
    }

    private static String content(Resource resource) {
        try (var in = resource.getInputStream()) {
            return in == null ? "" : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static String message(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String text = root.getMessage() == null ? root.toString() : root.getMessage();
        return root == e ? text : e.getMessage() + " (" + text + ")";
    }
}
