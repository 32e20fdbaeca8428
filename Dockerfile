# syntax=docker/dockerfile:1
# Capo's image: the shaded jar (target/capo.jar, main class io.capo.Application) on a Java 17 JRE,
# running as uid/gid 65532 with nothing written outside /tmp (read-only root file system friendly).
#
#   docker build -t capo:0.1.0 .
#   docker build --build-arg APPCDS=true -t capo:0.1.0 .   # plus an AppCDS archive (faster start)
#
# Run options live in JAVA_TOOL_OPTIONS so that the Helm chart (value javaToolOptions) can replace them.

ARG MAVEN_IMAGE=maven:3.9-eclipse-temurin-17
ARG RUNTIME_IMAGE=eclipse-temurin:17-jre

# ---------------------------------------------------------------- build the jar
FROM ${MAVEN_IMAGE} AS build
WORKDIR /build
COPY pom.xml ./
COPY routes ./routes
COPY src/main ./src/main
RUN --mount=type=cache,target=/root/.m2 mvn -B -DskipTests package \
    && cp target/capo.jar /build/capo.jar

# ---------------------------------------------------------------- optional AppCDS training run
# With APPCDS set, Capo starts once (no cluster here, so it gets as far as it can: Camel, the routes, the
# HTTP servers, the Kubernetes client) and the JVM archives the classes it loaded when it exits. The
# archive only works with the very JVM that wrote it, hence this stage runs on the runtime image.
FROM ${RUNTIME_IMAGE} AS cds
ARG APPCDS=
WORKDIR /app
COPY --from=build /build/capo.jar /app/capo.jar
RUN if [ -n "$APPCDS" ]; then \
      mkdir -p /tmp/cds-certs /tmp/cds-routes && \
      timeout -s TERM 60 java -XX:ArchiveClassesAtExit=/app/capo.jsa -Djava.io.tmpdir=/tmp \
        -Dcapo.settings.webhook.certDir=/tmp/cds-certs -jar /app/capo.jar || true; \
      test -s /app/capo.jsa; \
    fi

# ---------------------------------------------------------------- runtime
FROM ${RUNTIME_IMAGE}
ARG APPCDS=
LABEL org.opencontainers.image.title="capo" \
      org.opencontainers.image.description="Parks the Calico IP of a deleted stateful pod in an IPReservation and releases it later" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
# the jar, and the AppCDS archive when built with APPCDS (same files and times as in the training run)
COPY --from=cds --chown=0:0 /app/ /app/
# the Go Capo's manifests start "/manager --config=/capo_config.yaml": the same command starts Capo
COPY --chmod=0755 src/main/docker/manager /manager
ENV HOME=/tmp \
    JAVA_TOOL_OPTIONS="-XX:+UseContainerSupport -XX:+UseSerialGC -XX:MaxRAMPercentage=50 -XX:MaxMetaspaceSize=160m -XX:ReservedCodeCacheSize=64m -XX:MaxDirectMemorySize=64m -Xss512k -XX:+ExitOnOutOfMemoryError -Djava.io.tmpdir=/tmp -Duser.home=/tmp -Dvertx.cacheDirBase=/tmp/vertx-cache" \
    JDK_JAVA_OPTIONS="${APPCDS:+-XX:SharedArchiveFile=/app/capo.jsa -Xshare:auto}"
USER 65532:65532
# 9443: admission webhook (HTTPS); 8080: management (health, metrics, Jolokia)
EXPOSE 9443 8080
ENTRYPOINT ["java", "-jar", "/app/capo.jar"]
