#!/usr/bin/env bash
# Provision Calico's IPAM CNI plugin (calico-ipam) and Calico's CRDs for the integration tests that run
# Calico's own IPAM against the test bed's kube-apiserver (src/test/java/io/capo/it/CalicoIpam*IT.java).
#
# Installs, atomically (all or nothing), into
#   ${KUBE_API_TEST_DIR:-~/.kubeapitest}/calico/<calico-version>-<os>-<arch>/
#     calico        the CNI binary (github.com/projectcalico/calico/cni-plugin/cmd/calico)
#     calico-ipam   symlink to it: called as calico-ipam (argv[0]) it is the IPAM plugin
#     crds/         Calico's crd.projectcalico.org/v1 CRDs (libcalico-go/config/crd/ of the same commit)
#
# What this script does:
#   1. already present                                        -> report, exit 0
#   2. Go toolchain available (Go module proxy reachable)      -> build it in a scratch module and install it
#   3. no Go, GitHub reachable                                 -> calico-ipam from the release tarball and
#                                                                 the CRDs from the release's source tarball
#   4. otherwise                                               -> fail with what is missing
#
# Calico's module path has no /v3, so its v3.x tags are no module versions: the proxy serves v3.31.0 as the
# pseudo-version below. The checksum database has no record of the Calico modules, hence GONOSUMDB for them.
#
# Environment:
#   KUBE_API_TEST_DIR          target root (default ~/.kubeapitest), shared with provision-kube-binaries.sh
#   CAPO_CALICO_BUILD_DIR      scratch Go module dir (default ${XDG_CACHE_HOME:-~/.cache}/capo-calico-build)
#   CAPO_CALICO_BUILD_JOBS     go build -p (default 1: the build shares a small machine)
set -euo pipefail

CALICO_RELEASE="v3.31.0"
CALICO_MODULE="github.com/projectcalico/calico"
CALICO_PSEUDO="v0.0.0-20251021213802-b1f3c43f8437"   # = v3.31.0 (commit b1f3c43f8437)
CALICO_API_MODULE="github.com/projectcalico/api"
CALICO_API_PSEUDO="v0.0.0-20251022175904-f2ab03771208"

log() { printf '[provision-calico-ipam] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

KAT_DIR="${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}"
case "$(uname -s)" in
  Linux) GOOS_T=linux ;;
  *) die "calico-ipam runs on Linux only (got $(uname -s))" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) GOARCH_T=amd64 ;;
  aarch64 | arm64) GOARCH_T=arm64 ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac
TARGET="$KAT_DIR/calico/${CALICO_RELEASE#v}-${GOOS_T}-${GOARCH_T}"

present() {
  [[ -x "$TARGET/calico" && -L "$TARGET/calico-ipam" && -f "$TARGET/crds/crd.projectcalico.org_ipreservations.yaml" ]]
}

# ---------------------------------------------------------------- 1. already there
if present; then
  log "calico-ipam $CALICO_RELEASE and its CRDs already present in $TARGET"
  exit 0
fi

mkdir -p "$KAT_DIR/calico"
STAGE="$KAT_DIR/calico/.staging-${CALICO_RELEASE}-$$"
rm -rf "$STAGE"
mkdir -p "$STAGE/crds"
trap 'rm -rf "$STAGE"' EXIT
START=$SECONDS

install_stage() {
  chmod 0755 "$STAGE/calico"
  ln -s calico "$STAGE/calico-ipam"
  ls "$STAGE/crds/"crd.projectcalico.org_*.yaml >/dev/null 2>&1 || die "no CRDs staged"
  local version
  version="$("$STAGE/calico-ipam" -v 2>&1 || true)"
  log "calico-ipam -v: ${version:-?}"
  if [[ -d "$TARGET" ]]; then
    rm -rf "$TARGET.incomplete"
    mv "$TARGET" "$TARGET.incomplete"
  fi
  mv "$STAGE" "$TARGET"
  rm -rf "$TARGET.incomplete"
  trap - EXIT
  log "installed calico, calico-ipam and $(ls "$TARGET/crds" | wc -l) CRDs into $TARGET in $((SECONDS - START))s"
}

# ---------------------------------------------------------------- 2. build from the module proxy
if command -v go >/dev/null 2>&1; then
  BUILD_ROOT="${CAPO_CALICO_BUILD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/capo-calico-build}"
  mkdir -p "$BUILD_ROOT"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$BUILD_ROOT/.lock"
    flock 9
    if present; then
      log "calico-ipam appeared in $TARGET (built by a concurrent run)"
      exit 0
    fi
  fi
  export CGO_ENABLED=0 GOOS="$GOOS_T" GOARCH="$GOARCH_T" GOFLAGS="-mod=mod -buildvcs=false -trimpath"
  export GONOSUMDB="$CALICO_MODULE,$CALICO_API_MODULE${GONOSUMDB:+,$GONOSUMDB}"
  log "building $CALICO_MODULE/cni-plugin/cmd/calico@$CALICO_PSEUDO ($CALICO_RELEASE) with $(go version | cut -d' ' -f3)"
  log "scratch module dir: $BUILD_ROOT (Go caches: $(go env GOMODCACHE), $(go env GOCACHE))"

  CMOD="$BUILD_ROOT/calico-$CALICO_RELEASE"
  rm -rf "$CMOD"
  mkdir -p "$CMOD"
  cd "$CMOD"
  printf 'module capo.local/calico-build\n' >go.mod
  go mod edit -go="$(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/').0"

  CINFO_JSON="$(go mod download -json "$CALICO_MODULE@$CALICO_PSEUDO")" \
    || die "$CALICO_MODULE@$CALICO_PSEUDO is not available from the Go module proxy ($(go env GOPROXY))"
  CDIR="$(printf '%s' "$CINFO_JSON" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  CGOMOD="$(printf '%s' "$CINFO_JSON" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -d "$CDIR" && -f "$CGOMOD" ]] || die "could not locate $CALICO_MODULE@$CALICO_PSEUDO in the module cache"

  # Calico's replace directives apply to Calico's own build only; copy them. Its nested modules (./api,
  # ./lib/...) are not part of its module zip: api and lib/std come from the proxy at the same commit's
  # pseudo-versions; lib/httpmachinery (not served by the proxy, not imported by the CNI plugin) becomes an
  # empty local module so that the module graph resolves.
  mkdir -p "$CMOD/stub/httpmachinery"
  printf 'module %s/lib/httpmachinery\n\ngo 1.24\n' "$CALICO_MODULE" >"$CMOD/stub/httpmachinery/go.mod"
  edit_args=(-require="$CALICO_MODULE@$CALICO_PSEUDO"
    -replace="$CALICO_API_MODULE=$CALICO_API_MODULE@$CALICO_API_PSEUDO"
    -replace="$CALICO_MODULE/lib/std=$CALICO_MODULE/lib/std@$CALICO_PSEUDO"
    -replace="$CALICO_MODULE/lib/httpmachinery=./stub/httpmachinery")
  while read -r from to; do
    edit_args+=(-replace="$from=$to")
  done < <(sed -n 's#^[[:space:]]*\([A-Za-z0-9./_-]*\)[[:space:]]*=>[[:space:]]*\([A-Za-z0-9./_-]*\)[[:space:]]\{1,\}\(v[^[:space:]]*\)[[:space:]]*$#\1 \2@\3#p' "$CGOMOD")
  [[ ${#edit_args[@]} -gt 20 ]] || die "fewer replace directives than expected in $CGOMOD"
  go mod edit "${edit_args[@]}"
  log "copied $(( ${#edit_args[@]} - 4 )) versioned replace directives from Calico's go.mod"

  PKG="$CALICO_MODULE/cni-plugin/cmd/calico"
  log "resolving dependencies of $PKG (go get)"
  go get "$PKG@$CALICO_PSEUDO"
  JOBS="${CAPO_CALICO_BUILD_JOBS:-1}"
  log "building $PKG (-p $JOBS; ~4 min with cold Go caches on 2 cores, ~30 s warm)"
  go build -p "$JOBS" -ldflags "-s -w -X $CALICO_MODULE/pkg/buildinfo.Version=$CALICO_RELEASE" -o "$STAGE/calico" "$PKG"
  cp "$CDIR"/libcalico-go/config/crd/crd.projectcalico.org_*.yaml "$STAGE/crds/"
  chmod 0644 "$STAGE/crds/"*.yaml
  install_stage
  exit 0
fi

# ---------------------------------------------------------------- 3. the release's artifacts
# release-vX.Y.Z.tgz holds release-vX.Y.Z/bin/cni/<arch>/calico-ipam (Calico's release tooling copies
# cni-plugin/bin/ there; it also holds the images, about 1 GB); the CRDs come from the source tarball.
RELEASE_URL="https://github.com/projectcalico/calico/releases/download/$CALICO_RELEASE"
RELEASE_TGZ="release-$CALICO_RELEASE.tgz"
SRC_TGZ="https://github.com/projectcalico/calico/archive/refs/tags/$CALICO_RELEASE.tar.gz"
if command -v curl >/dev/null 2>&1 && curl -fsIL --max-time 10 "$RELEASE_URL/$RELEASE_TGZ" >/dev/null 2>&1; then
  log "no Go toolchain: fetching $RELEASE_URL/$RELEASE_TGZ (about 1 GB) and the CRDs of $CALICO_RELEASE"
  curl -fsSL "$RELEASE_URL/$RELEASE_TGZ" -o "$STAGE/release.tgz"
  bin="$(tar -tzf "$STAGE/release.tgz" | grep -E "/bin/cni/($GOARCH_T/)?calico-ipam(-$GOARCH_T)?$" | head -n 1 || true)"
  [[ -n "$bin" ]] || die "$RELEASE_TGZ holds no calico-ipam binary for $GOARCH_T"
  tar -xzf "$STAGE/release.tgz" -C "$STAGE" "$bin"
  mv "$STAGE/$bin" "$STAGE/calico"
  curl -fsSL "$SRC_TGZ" -o "$STAGE/src.tgz"
  tar -xzf "$STAGE/src.tgz" -C "$STAGE/crds" --strip-components=4 --wildcards \
    "calico-${CALICO_RELEASE#v}/libcalico-go/config/crd/crd.projectcalico.org_*.yaml"
  rm -f "$STAGE/release.tgz" "$STAGE/src.tgz"
  find "$STAGE" -mindepth 1 -maxdepth 1 -type d ! -name crds -exec rm -rf {} +
  install_stage
  exit 0
fi

# ---------------------------------------------------------------- 4. no way to get it
die "calico-ipam $CALICO_RELEASE missing in $TARGET: no Go toolchain and $RELEASE_URL not reachable.
  Either install Go (>= 1.24, with GOPROXY reachable) and re-run this script, or put into $TARGET/:
    calico        release-$CALICO_RELEASE/bin/cni/$GOARCH_T/calico-ipam from $RELEASE_URL/$RELEASE_TGZ, executable
    calico-ipam   a symlink to calico
    crds/         crd.projectcalico.org_*.yaml from libcalico-go/config/crd/ of $SRC_TGZ"
