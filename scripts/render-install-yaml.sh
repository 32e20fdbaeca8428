#!/usr/bin/env bash
# Regenerates the files derived from the Helm chart helm/capo:
#   deploy/yaml/install.yaml        the chart rendered with deploy/yaml/install-values.yaml
#                                   (release capo, namespace ip-reserve), plus the Namespace
#   deploy/prometheus/rules.yaml    the chart's PrometheusRule as a plain Prometheus rule file
#   helm/capo/README.md             the values table, from the "# --" comments of values.yaml
#
# Needs only Java 17 and Maven: Helm runs embedded, through helm-java (a test-scoped dependency), in
# io.capo.deploy.ChartRenderer (src/test/java). The tests in io.capo.deploy fail when these files are stale.
#
# Usage: scripts/render-install-yaml.sh          (add CAPO_MVN_OFFLINE=1 to run Maven offline)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mvn_args=(-q -B)
if [[ "${CAPO_MVN_OFFLINE:-0}" == 1 ]]; then
  mvn_args+=(-o)
fi

classpath_file="target/capo-deploy.classpath"
mvn "${mvn_args[@]}" test-compile
mvn "${mvn_args[@]}" org.apache.maven.plugins:maven-dependency-plugin:2.8:build-classpath \
  -Dmdep.outputFile="$classpath_file"

java -cp "target/test-classes:target/classes:$(cat "$classpath_file")" \
  -Dcapo.projectRoot="$root" io.capo.deploy.ChartRenderer
