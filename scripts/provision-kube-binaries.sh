#!/usr/bin/env bash
# Provision kube-apiserver, etcd and kubectl for fabric8 kube-api-test (io.fabric8:kube-api-test).
#
# kube-api-test looks for binaries in
#   ${KUBE_API_TEST_DIR:-~/.kubeapitest}/k8s/<version>-<os>-<arch>/{kube-apiserver,etcd,kubectl}
# and, when it can reach GitHub, downloads the envtest archive for <version> itself.
# It only checks that the <version>-<os>-<arch> directory exists before using it, so this
# script fills the directory atomically (all three binaries or nothing).
#
# What this script does:
#   1. binaries for the pinned version already present       -> report, exit 0
#   2. online (kube-api-test's download source reachable)    -> nothing to do, exit 0
#   3. offline, Go toolchain available                        -> build the three binaries from
#      the Go module proxy (k8s.io/kubernetes + go.etcd.io/etcd/server/v3) and install them
#   4. otherwise                                              -> fail with instructions
#
# Environment:
#   KUBE_API_TEST_DIR   target root (default ~/.kubeapitest), same variable kube-api-test reads
#   CAPO_KUBE_VERSION   Kubernetes version, "X.Y.Z" (default below; falls back to an exact
#                       KUBE_API_TEST_API_SERVER_VERSION if that is set)
#   CAPO_ETCD_VERSION   etcd version to build (default below)
#   CAPO_KUBE_BUILD_DIR scratch Go module dir (default ${XDG_CACHE_HOME:-~/.cache}/capo-kube-build)
#   CAPO_KUBE_FORCE_BUILD=1  build even when online
#   CAPO_KUBECTL=/path  copy this kubectl instead of building one
set -euo pipefail

DEFAULT_KUBE_VERSION="1.34.12"
DEFAULT_ETCD_VERSION="3.6.16"

log() { printf '[provision-kube-binaries] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- configuration
KUBE_VERSION="${CAPO_KUBE_VERSION:-}"
if [[ -z "$KUBE_VERSION" && -n "${KUBE_API_TEST_API_SERVER_VERSION:-}" \
      && "${KUBE_API_TEST_API_SERVER_VERSION}" != *'*'* ]]; then
  KUBE_VERSION="$KUBE_API_TEST_API_SERVER_VERSION"
fi
KUBE_VERSION="${KUBE_VERSION:-$DEFAULT_KUBE_VERSION}"
KUBE_VERSION="${KUBE_VERSION#v}"
[[ "$KUBE_VERSION" =~ ^1\.([0-9]+)\.([0-9]+)$ ]] \
  || die "Kubernetes version must look like 1.34.12 (got '$KUBE_VERSION')"
KUBE_MINOR="${BASH_REMATCH[1]}"
STAGING_VERSION="0.${KUBE_MINOR}.${BASH_REMATCH[2]}"   # k8s.io/api etc. are tagged v0.Y.Z

ETCD_VERSION="${CAPO_ETCD_VERSION:-$DEFAULT_ETCD_VERSION}"
ETCD_VERSION="${ETCD_VERSION#v}"

KAT_DIR="${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}"

case "$(uname -s)" in
  Linux) GOOS_T=linux ;;
  Darwin) GOOS_T=darwin ;;
  *) die "unsupported OS $(uname -s)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) GOARCH_T=amd64 ;;
  aarch64 | arm64) GOARCH_T=arm64 ;;
  ppc64le) GOARCH_T=ppc64le ;;
  *) GOARCH_T=amd64 ;;   # kube-api-test's OSInfo maps every other arch to amd64
esac

TARGET="$KAT_DIR/k8s/${KUBE_VERSION}-${GOOS_T}-${GOARCH_T}"
BINARIES=(kube-apiserver etcd kubectl)

have_all() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$TARGET/$b" ]] || return 1; done
}

# ---------------------------------------------------------------- 1. already there
if have_all; then
  log "binaries for Kubernetes $KUBE_VERSION already present in $TARGET"
  exit 0
fi

# ---------------------------------------------------------------- 2. online
# kube-api-test downloads the envtest archive from GitHub (index on raw.githubusercontent.com).
if [[ "${CAPO_KUBE_FORCE_BUILD:-0}" != 1 ]] && command -v curl >/dev/null 2>&1; then
  if curl -fsI --max-time 5 \
       https://raw.githubusercontent.com/kubernetes-sigs/controller-tools/HEAD/envtest-releases.yaml \
       >/dev/null 2>&1; then
    log "online: kube-api-test will download envtest $KUBE_VERSION into $KAT_DIR itself"
    log "(set CAPO_KUBE_FORCE_BUILD=1 to build from source anyway)"
    exit 0
  fi
fi

# ---------------------------------------------------------------- 4. no way to get them
if ! command -v go >/dev/null 2>&1; then
  die "binaries missing in $TARGET, no network access to GitHub and no Go toolchain.
  Either install Go (>= 1.26, with GOPROXY reachable) and re-run this script, or put
  kube-apiserver, etcd and kubectl (Kubernetes $KUBE_VERSION, e.g. from
  https://github.com/kubernetes-sigs/controller-tools/releases/download/envtest-v$KUBE_VERSION/envtest-v$KUBE_VERSION-$GOOS_T-$GOARCH_T.tar.gz)
  into $TARGET/ and make them executable."
fi

# ---------------------------------------------------------------- 3. build from the module proxy
BUILD_ROOT="${CAPO_KUBE_BUILD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/capo-kube-build}"
mkdir -p "$BUILD_ROOT" "$KAT_DIR/k8s"

# serialise concurrent runs
if command -v flock >/dev/null 2>&1; then
  exec 9>"$BUILD_ROOT/.lock"
  flock 9
  if have_all; then
    log "binaries for Kubernetes $KUBE_VERSION appeared in $TARGET (built by a concurrent run)"
    exit 0
  fi
fi

export CGO_ENABLED=0 GOOS="$GOOS_T" GOARCH="$GOARCH_T" GOFLAGS="-mod=mod -buildvcs=false"
GO_LDFLAGS_BASE="-s -w"
START=$SECONDS
log "offline: building Kubernetes $KUBE_VERSION (kube-apiserver, kubectl) and etcd $ETCD_VERSION with $(go version | cut -d' ' -f3)"
log "scratch module dir: $BUILD_ROOT (Go caches: $(go env GOMODCACHE), $(go env GOCACHE))"

OUT="$BUILD_ROOT/out-${KUBE_VERSION}-${GOOS_T}-${GOARCH_T}"
rm -rf "$OUT"
mkdir -p "$OUT"

# --- kube-apiserver + kubectl -------------------------------------------------
KMOD="$BUILD_ROOT/kubernetes-$KUBE_VERSION"
rm -rf "$KMOD"
mkdir -p "$KMOD"
cd "$KMOD"
cat >go.mod <<'EOF'
module capo.local/kube-build
EOF
go mod edit -go="$(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/').0"

log "fetching k8s.io/kubernetes@v$KUBE_VERSION metadata from $(go env GOPROXY)"
KINFO_JSON="$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION")" \
  || die "k8s.io/kubernetes@v$KUBE_VERSION is not available from the Go module proxy"
KGOMOD="$(printf '%s' "$KINFO_JSON" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
KINFO="$(printf '%s' "$KINFO_JSON" | sed -n 's/^[[:space:]]*"Info": "\(.*\)",\{0,1\}$/\1/p')"
[[ -f "$KGOMOD" ]] || die "could not locate go.mod of k8s.io/kubernetes@v$KUBE_VERSION"

# k8s.io/kubernetes replaces every staging module with ./staging/src/...; those replaces are
# ignored for a dependency, so pin each of them to the published v0.Y.Z tag instead.
mapfile -t STAGING < <(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$KGOMOD")
[[ ${#STAGING[@]} -gt 0 ]] || die "no staging replace directives found in $KGOMOD"
edit_args=(-require="k8s.io/kubernetes@v$KUBE_VERSION")
for m in "${STAGING[@]}"; do edit_args+=(-replace="$m=$m@v$STAGING_VERSION"); done
go mod edit "${edit_args[@]}"
log "pinned ${#STAGING[@]} staging modules to v$STAGING_VERSION"

log "resolving dependencies of cmd/kube-apiserver and cmd/kubectl (go get)"
go get "k8s.io/kubernetes/cmd/kube-apiserver@v$KUBE_VERSION" "k8s.io/kubernetes/cmd/kubectl@v$KUBE_VERSION"

# version stamping, as hack/lib/version.sh does (kube-apiserver --version, kubectl version)
GIT_COMMIT="$( { [[ -f "$KINFO" ]] && sed -n 's/.*"Hash": *"\([0-9a-f]*\)".*/\1/p' "$KINFO"; } || true)"
BUILD_DATE="$( { [[ -f "$KINFO" ]] && sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$KINFO"; } || true)"
BUILD_DATE="${BUILD_DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}"
KLDFLAGS="$GO_LDFLAGS_BASE"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  KLDFLAGS+=" -X $p.gitVersion=v$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$KUBE_MINOR"
  KLDFLAGS+=" -X $p.gitTreeState=clean -X $p.buildDate=$BUILD_DATE"
  if [[ -n "$GIT_COMMIT" ]]; then KLDFLAGS+=" -X $p.gitCommit=$GIT_COMMIT"; fi
done

build_pkgs=(k8s.io/kubernetes/cmd/kube-apiserver)
if [[ -n "${CAPO_KUBECTL:-}" ]]; then
  [[ -x "$CAPO_KUBECTL" ]] || die "CAPO_KUBECTL=$CAPO_KUBECTL is not an executable file"
  cp "$CAPO_KUBECTL" "$OUT/kubectl"
  log "using kubectl from $CAPO_KUBECTL"
else
  build_pkgs+=(k8s.io/kubernetes/cmd/kubectl)
fi
log "building ${build_pkgs[*]##*/} (this is the slow part: ~7 min with cold Go caches on 2 cores)"
go build -trimpath -ldflags "$KLDFLAGS" -o "$OUT/" "${build_pkgs[@]}"
log "kube-apiserver and kubectl built after $((SECONDS - START))s"

# --- etcd -------------------------------------------------------------------------
EMOD="$BUILD_ROOT/etcd-$ETCD_VERSION"
rm -rf "$EMOD"
mkdir -p "$EMOD"
cd "$EMOD"
cat >go.mod <<'EOF'
module capo.local/etcd-build
EOF
go mod edit -go="$(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/').0"
cat >main.go <<'EOF'
// etcd server entry point, equivalent to go.etcd.io/etcd/v3's main.go.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
EOF
log "resolving go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
go mod tidy
ELDFLAGS="$GO_LDFLAGS_BASE"
EINFO="$(go mod download -json "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" \
  | sed -n 's/^[[:space:]]*"Info": "\(.*\)",\{0,1\}$/\1/p')"
ESHA="$( { [[ -f "$EINFO" ]] && sed -n 's/.*"Hash": *"\([0-9a-f]\{7\}\).*/\1/p' "$EINFO"; } || true)"
if [[ -n "$ESHA" ]]; then ELDFLAGS+=" -X go.etcd.io/etcd/api/v3/version.GitSHA=$ESHA"; fi
log "building etcd"
go build -trimpath -ldflags "$ELDFLAGS" -o "$OUT/etcd" .

# --- sanity check + atomic install -------------------------------------------------
if [[ "$GOOS_T" == "$(go env GOHOSTOS)" && "$GOARCH_T" == "$(go env GOHOSTARCH)" ]]; then
  log "kube-apiserver: $("$OUT/kube-apiserver" --version)"
  log "etcd:           $("$OUT/etcd" --version | head -1)"
  log "kubectl:        $("$OUT/kubectl" version --client 2>/dev/null | head -1)"
fi

chmod 0755 "$OUT"/*
STAGE="$KAT_DIR/k8s/.staging-${KUBE_VERSION}-$$"
rm -rf "$STAGE"
mkdir -p "$STAGE"
# keep binaries that are already in an (incomplete) target dir out of the way
if [[ -d "$TARGET" ]]; then
  rm -rf "$TARGET.incomplete"
  mv "$TARGET" "$TARGET.incomplete"
fi
cp -p "$OUT/kube-apiserver" "$OUT/etcd" "$OUT/kubectl" "$STAGE/"
mv "$STAGE" "$TARGET"
rm -rf "$TARGET.incomplete" "$OUT"

log "installed kube-apiserver, etcd, kubectl into $TARGET in $((SECONDS - START))s"
