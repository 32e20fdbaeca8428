package io.capo.architecture;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The floors of the code (README, "Code"): the domain ({@code reservation}) at the bottom, the use cases
 * ({@code webhook}, {@code events}, {@code release}) on it, one adapter package per outside system ({@code calico},
 * {@code informers}, {@code leader}), and {@code runtime} (Camel, Vert.x, the object graph) on top. Dependencies point
 * down only.
 */
@AnalyzeClasses(packages = "io.capo", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {

    private static final String[] INNER = {"io.capo.reservation..", "io.capo.release..", "io.capo.webhook..",
        "io.capo.events..", "io.capo.logging.."};

    @ArchTest
    static final ArchRule domainAndUseCasesKnowNoFramework = noClasses().that().resideInAnyPackage(INNER)
            .should().dependOnClassesThat().resideInAnyPackage("org.apache.camel..", "io.fabric8..", "io.vertx..",
                    "io.micrometer..")
            .because("the decisions are plain Java, unit-tested without Camel or a Kubernetes client");

    @ArchTest
    static final ArchRule domainKnowsOnlyItself = classes().that().resideInAPackage("io.capo.reservation..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("io.capo.reservation..", "java..", "org.slf4j..")
            .because("the domain owns its vocabulary: configuration maps into it, not the other way round (it logs)");

    @ArchTest
    static final ArchRule camelOnlyInRuntimeAndLeader = noClasses()
            .that().resideOutsideOfPackages("io.capo", "io.capo.runtime..", "io.capo.leader..")
            .should().dependOnClassesThat().resideInAPackage("org.apache.camel..")
            .because("routes are wiring: Camel is used by the runtime (and its main class) and, through its cluster "
                    + "SPI, by the leader");

    @ArchTest
    static final ArchRule clusterSpiOnlyInLeader = noClasses().that().resideOutsideOfPackages("io.capo.leader..")
            .should().dependOnClassesThat().resideInAnyPackage("org.apache.camel.cluster..",
                    "org.apache.camel.support.cluster..")
            .because("only the Lease election implements Camel's cluster service");

    @ArchTest
    static final ArchRule adaptersDoNotClimbUp = noClasses()
            .that().resideInAnyPackage("io.capo.calico..", "io.capo.informers..", "io.capo.leader..")
            .should().dependOnClassesThat().resideInAnyPackage("io.capo.runtime..", "io.capo.metrics..",
                    "io.capo.config..")
            .because("an adapter implements a port of the floors below; the runtime wires it");

    @ArchTest
    static final ArchRule noCycles = slices().matching("io.capo.(*)..").should().beFreeOfCycles();
}
