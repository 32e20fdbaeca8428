package io.capo.deploy;

import io.fabric8.certmanager.api.model.v1.Certificate;
import io.fabric8.certmanager.api.model.v1.ClusterIssuer;
import io.fabric8.certmanager.api.model.v1.Issuer;
import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The CustomResourceDefinitions of the third-party kinds the chart renders, generated from fabric8's typed models
 * with fabric8's CRD generator (crd-generator-api-v2), so that a real API server can validate the chart's
 * objects against them:
 * <ul>
 *   <li>cert-manager {@code cert-manager.io/v1} Certificate, Issuer, ClusterIssuer: {@code io.fabric8:certmanager-model-v1}
 *       (6.13.x, the last release of fabric8's cert-manager extension, generated from cert-manager's Go types);</li>
 *   <li>Prometheus Operator {@code monitoring.coreos.com/v1} ServiceMonitor, PrometheusRule:
 *       {@code io.fabric8:openshift-model-monitoring} (generated from the Prometheus Operator's Go types as
 *       vendored by OpenShift).</li>
 * </ul>
 * Group, version, kind, plural and scope come from the classes' annotations; the schema from their fields and
 * types, so a field the chart misspells or gives the wrong type is refused. How these differ from the CRDs the
 * projects publish: no enum/pattern/min/max/required constraints (the Java models carry none), and the
 * {@code additionalProperties} of the fabric8 models is left out (see {@link #generate()}).
 */
public final class OperatorCrds {

    /** The model classes, by CRD name. */
    static final List<Class<? extends HasMetadata>> CLASSES = List.of(
            Certificate.class, Issuer.class, ClusterIssuer.class, ServiceMonitor.class, PrometheusRule.class);

    private OperatorCrds() {
    }

    /** CRD name ({@code plural.group}) to CRD, in v1. */
    public static Map<String, CustomResourceDefinition> generate() {
        Map<String, ByteArrayOutputStream> outputs = new TreeMap<>();
        new CRDGenerator()
                .customResourceClasses(CLASSES)
                .forCRDVersions("v1")
                // fabric8's models keep unknown fields in an @JsonAnySetter map; not marking every object
                // x-kubernetes-preserve-unknown-fields keeps the schema strict, as the published CRDs are.
                .withImplicitPreserveUnknownFields(false)
                .withOutput(new CRDGenerator.CRDOutput<ByteArrayOutputStream>() {
                    @Override
                    public ByteArrayOutputStream outputFor(String crdName) {
                        return outputs.computeIfAbsent(crdName, n -> new ByteArrayOutputStream());
                    }

                    @Override
                    public void close() {
                    }
                })
                .generate();
        KubernetesSerialization serialization = new KubernetesSerialization();
        Map<String, CustomResourceDefinition> crds = new TreeMap<>();
        for (Map.Entry<String, ByteArrayOutputStream> output : outputs.entrySet()) {
            CustomResourceDefinition crd = serialization.unmarshal(
                    output.getValue().toString(StandardCharsets.UTF_8), CustomResourceDefinition.class);
            crds.put(crd.getMetadata().getName(), crd);
        }
        return crds;
    }

    /** Writes the generated CRDs to a directory (one file each), for a look at what the test installs. */
    public static List<Path> write(Path dir) {
        List<Path> files = new ArrayList<>();
        KubernetesSerialization serialization = new KubernetesSerialization();
        try {
            Files.createDirectories(dir);
            for (Map.Entry<String, CustomResourceDefinition> crd : generate().entrySet()) {
                Path file = dir.resolve(crd.getKey() + "-v1.yml");
                Files.writeString(file, serialization.asYaml(crd.getValue()));
                files.add(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    public static void main(String[] args) {
        write(Path.of(args.length > 0 ? args[0] : "target/operator-crds")).forEach(System.out::println);
    }
}
