package io.capo.deploy;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/** The objects of a rendering, looked up by kind and name. Public for other tests that render the chart. */
public record Manifests(List<JsonNode> objects) {

    public static Manifests of(String multiDocumentYaml) {
        return new Manifests(ChartRenderer.documents(multiDocumentYaml));
    }

    public List<JsonNode> ofKind(String kind) {
        return objects.stream().filter(o -> kind.equals(o.path("kind").asText())).toList();
    }

    public Optional<JsonNode> find(String kind, String name) {
        return objects.stream()
                .filter(o -> kind.equals(o.path("kind").asText()) && name.equals(o.path("metadata").path("name").asText()))
                .findFirst();
    }

    public JsonNode one(String kind, String name) {
        return find(kind, name).orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in " + names()));
    }

    /** The only object of a kind. */
    public JsonNode only(String kind) {
        List<JsonNode> all = ofKind(kind);
        if (all.size() != 1) {
            throw new AssertionError("expected one " + kind + ", got " + all.size() + " in " + names());
        }
        return all.get(0);
    }

    /** kind/name of every object, in order. */
    public List<String> names() {
        return objects.stream().map(o -> o.path("kind").asText() + "/" + o.path("metadata").path("name").asText())
                .collect(Collectors.toList());
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    static Optional<JsonNode> byName(JsonNode array, String name) {
        return StreamSupport.stream(array.spliterator(), false)
                .filter(n -> name.equals(n.path("name").asText())).findFirst();
    }
}
