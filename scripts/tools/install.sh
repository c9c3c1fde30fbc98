#!/usr/bin/env bash
# Build-or-reuse the tools smelt's checks and local control plane need, from the Go module proxy and Debian
# packages only (no GitHub downloads, no container registry, no Docker).
#
#   scripts/tools/install.sh [offline|cluster|all|TOOL...]      (default: all)
#     offline  helm kubeconform argo                   the manifest checks in `make test`
#     cluster  etcd kube-apiserver kube-scheduler kubectl kwok workflow-controller crds   (`make cluster-up`)
#   crds: the Argo and External Secrets CRDs, from their Go modules, into crds/ (the cluster installs them)
#
# Everything lands in ${SMELT_TOOLS_DIR:-$HOME/.cache/smelt/tools}, outside the work tree: bin/ (the tools),
# go/ (module and build caches, so a rebuild after a version bump is incremental), src/ (patched module
# copies), logs/ (one build log per tool, build-times.tsv). A tool whose binary and version stamp are present
# is skipped, so a warm run is a no-op. FORCE=1 rebuilds.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/tools/versions.env
source "$HERE/versions.env"

TOOLS=${SMELT_TOOLS_DIR:-$HOME/.cache/smelt/tools}
BIN=$TOOLS/bin
STAMPS=$TOOLS/stamps
LOGS=$TOOLS/logs
SRC=$TOOLS/src
mkdir -p "$BIN" "$STAMPS" "$LOGS" "$SRC"

export GOMODCACHE=$TOOLS/go/mod GOCACHE=$TOOLS/go/build GOPATH=$TOOLS/go/path
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-modcacherw GOWORK=off

ARGO_MOD=github.com/argoproj/argo-workflows/${ARGO_VERSION%%.*}
START=$(date +%s)
say() { printf '[tools %4ss] %s\n' "$(($(date +%s) - START))" "$*" >&2; }

version_of() { # tool -> the pinned version its stamp must match
  case $1 in
    helm) echo "$HELM_VERSION" ;;
    kubeconform) echo "$KUBECONFORM_VERSION" ;;
    argo | workflow-controller) echo "$ARGO_VERSION" ;;
    kube-apiserver | kube-scheduler | kubectl) echo "$KUBE_VERSION" ;;
    kwok) echo "$KWOK_VERSION" ;;
    etcd) echo "$ETCD_DEB_VERSION" ;;
    crds) echo "argo-$ARGO_VERSION eso-$ESO_VERSION (full where smelt creates objects)" ;;
    *) echo "unknown tool '$1' (known: ${ALL[*]})" >&2; return 2 ;;
  esac
}

up_to_date() { # tool
  local target=$BIN/$1
  [[ $1 == crds ]] && target=$TOOLS/crds
  [[ -z ${FORCE:-} && -e $target && -f $STAMPS/$1 && $(cat "$STAMPS/$1") == "$(version_of "$1")" ]]
}

# --- Go: the machine's own when it is new enough, else the pinned toolchain module from the Go proxy,
#     checked against its go.sum hash before use.
go_ok() { command -v go >/dev/null && [[ $(go env GOVERSION 2>/dev/null) =~ ^go1\.(2[6-9]|[3-9][0-9]) ]]; }
ensure_go() {
  go_ok && return 0
  local dir=$TOOLS/go/toolchain-$GO_VERSION
  if [[ ! -x $dir/bin/go ]]; then
    local proxy=${GOPROXY:-https://proxy.golang.org}; proxy=${proxy%%,*}; [[ $proxy == off || $proxy == direct ]] && proxy=https://proxy.golang.org
    local mod=v0.0.1-go$GO_VERSION.linux-amd64 zip=$TOOLS/go/toolchain.zip
    say "no Go >= 1.26 on PATH: fetching golang.org/toolchain@$mod from $proxy"
    curl -fsSL --retry 3 -o "$zip" "$proxy/golang.org/toolchain/@v/$mod.zip"
    python3 "$HERE/gosum.py" "$zip" "$GO_TOOLCHAIN_H1"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$dir.tmp"
    mv "$dir.tmp/golang.org/toolchain@$mod" "$dir" && rm -rf "$dir.tmp" "$zip"
    chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/*
  fi
  export PATH=$dir/bin:$PATH GOROOT=$dir
  go_ok || { echo "the Go toolchain in $dir does not run" >&2; exit 1; }
}

# --- Argo: the module zip lacks the built UI that //go:embed wants, and `-overlay` may not replace files in
#     the module cache, so build from a writable copy with a placeholder page. One patch: the controller's
#     /healthz listens on ":6060" (every interface); bind it to loopback.
argo_src() {
  local dst=$SRC/argo-$ARGO_VERSION
  if [[ ! -f $dst/.ready ]]; then
    local dir
    dir=$(cd "$TOOLS" && go mod download -json "$ARGO_MOD@$ARGO_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
    rm -rf "$dst" && cp -r "$dir" "$dst" && chmod -R u+w "$dst"
    mkdir -p "$dst/ui/dist/app"
    echo '<html><body>The Argo UI is not built into this CLI/controller.</body></html>' >"$dst/ui/dist/app/index.html"
    sed -i 's|http.ListenAndServe(":6060", nil)|http.ListenAndServe("127.0.0.1:6060", nil)|' \
      "$dst/cmd/workflow-controller/main.go"
    grep -q '"127.0.0.1:6060"' "$dst/cmd/workflow-controller/main.go" ||
      { echo "could not bind the controller's healthz to loopback: main.go changed upstream" >&2; return 1; }
    touch "$dst/.ready"
  fi
  echo "$dst"
}
build_argo() { # argo | workflow-controller
  local src; src=$(argo_src)
  local x=$ARGO_MOD flags="-s -w"
  flags+=" -X $x.version=$ARGO_VERSION -X $x.gitTag=$ARGO_VERSION -X $x.gitTreeState=clean"
  flags+=" -X $x.gitCommit=0000000000000000000000000000000000000000 -X $x.buildDate=1970-01-01T00:00:00Z"
  (cd "$src" && go build -trimpath -ldflags "$flags" -o "$BIN/$1" "./cmd/$1")
}

# --- Kubernetes: `go install k8s.io/kubernetes/cmd/...` refuses a module with replace directives, so a
#     wrapper module requires k8s.io/kubernetes and points each staging repo at its published v0.X.Y.
kube_src() {
  local dst=$SRC/kube-$KUBE_VERSION
  if [[ ! -f $dst/.ready ]]; then
    mkdir -p "$dst"
    local gomod staging=v0.${KUBE_VERSION#v1.}
    gomod=$(cd "$TOOLS" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
    {
      printf 'module local/smelt-kube-tools\n\n'
      grep -E '^(go|godebug) ' "$gomod"
      printf '\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$KUBE_VERSION"
      sed -n '/^replace (/,/^)/p' "$gomod" | awk '/=>/ {print $1}' |
        grep -v -E 'sample-(cli-plugin|controller)' | sed "s|.*|\t& => & $staging|"
      printf ')\n'
    } >"$dst/go.mod"
    (cd "$dst" && GOFLAGS="$GOFLAGS -mod=mod" go get \
      "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" \
      "k8s.io/kubernetes/cmd/kube-scheduler@$KUBE_VERSION" \
      "k8s.io/kubernetes/cmd/kubectl@$KUBE_VERSION")
    touch "$dst/.ready"
  fi
  echo "$dst"
}
build_kube() { # kube-apiserver | kube-scheduler | kubectl
  local src; src=$(kube_src)
  local minor=${KUBE_VERSION#v1.} flags="-s -w" p
  minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    flags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$src" && GOFLAGS="$GOFLAGS -mod=mod" go build -trimpath -ldflags "$flags" -o "$BIN/$1" "k8s.io/kubernetes/cmd/$1")
}

go_install() { # package@version [ldflags]
  (cd "$TOOLS" && GOBIN=$BIN go install -trimpath -ldflags "-s -w ${2:-}" "$1")
}
build_helm() { go_install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"; }
build_kubeconform() { go_install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"; }
build_kwok() { go_install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION"; }

# --- CRDs: what a cluster with Argo Workflows and External Secrets installed has, from their Go modules (no
#     GitHub release downloads). Full schemas for the kinds smelt creates, so the API server validates every
#     field; Argo's minimal CRDs for the kinds only its controller watches (the full ones cost the API server
#     seconds of CPU each); ESO's kinds the chart uses, and the password generator of the local profile.
build_crds() {
  local eso argo crds=$TOOLS/crds
  eso=$(cd "$TOOLS" && go mod download -json "github.com/external-secrets/external-secrets@$ESO_VERSION" |
    sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  argo=$(argo_src)/manifests/base/crds
  rm -rf "$crds" && mkdir -p "$crds/argoproj.io" "$crds/external-secrets.io" "$crds/generators.external-secrets.io"
  for kind in workflows workflowtemplates cronworkflows workflowtaskresults; do
    cp "$argo/full/argoproj.io_$kind.yaml" "$crds/argoproj.io/"
  done
  for kind in clusterworkflowtemplates workflowtasksets workflowartifactgctasks workfloweventbindings; do
    cp "$argo/minimal/argoproj.io_$kind.yaml" "$crds/argoproj.io/"
  done
  cp "$eso"/config/crds/bases/external-secrets.io_{secretstores,clustersecretstores,externalsecrets}.yaml "$crds/external-secrets.io/"
  cp "$eso"/config/crds/bases/generators.external-secrets.io_passwords.yaml "$crds/generators.external-secrets.io/"
}

# --- etcd: Debian ships etcd-server 3.4; take its binary out of the package, install nothing system-wide.
build_etcd() {
  local d=$TOOLS/debs
  rm -rf "$d" && mkdir -p "$d"
  (cd "$d" && { apt-get download etcd-server 2>/dev/null || { apt-get update -qq && apt-get download etcd-server; }; })
  local deb; deb=$(ls "$d"/etcd-server_*.deb)
  [[ $(dpkg-deb -f "$deb" Version) == "$ETCD_DEB_VERSION"* ]] ||
    { echo "Debian offers etcd-server $(dpkg-deb -f "$deb" Version), not $ETCD_DEB_VERSION" >&2; return 1; }
  dpkg-deb -x "$deb" "$d/root" && cp "$d/root/usr/bin/etcd" "$BIN/etcd" && rm -rf "$d"
}

build() { # tool: run its builder with a log, a timing line and a version stamp
  local t0 rc=0
  t0=$(date +%s)
  say "building $1 $(version_of "$1") (log: $LOGS/$1.log)"
  case $1 in
    argo | workflow-controller) build_argo "$1" ;;
    kube-apiserver | kube-scheduler | kubectl) build_kube "$1" ;;
    *) "build_${1//-/_}" ;;
  esac >"$LOGS/$1.log" 2>&1 || rc=$?
  local took=$(($(date +%s) - t0))
  printf '%s\t%s\t%s\t%s\t%ss\n' "$(date -Is)" "$1" "$(version_of "$1")" "$([[ $rc == 0 ]] && echo ok || echo "FAIL($rc)")" \
    "$took" >>"$LOGS/build-times.tsv"
  if [[ $rc != 0 ]]; then
    say "FAILED $1 after ${took}s; last lines of $LOGS/$1.log:"
    tail -n 25 "$LOGS/$1.log" >&2
    return "$rc"
  fi
  version_of "$1" >"$STAMPS/$1"
  say "built $1 in ${took}s$([[ -f $BIN/$1 ]] && echo " ($(($(stat -c %s "$BIN/$1") / 1048576)) MiB)")"
}

OFFLINE=(argo helm kubeconform)
CLUSTER=(workflow-controller kube-apiserver kube-scheduler kubectl kwok etcd crds)
# Longest first: the argo copy feeds the controller, the kube wrapper feeds three binaries.
ALL=(argo workflow-controller kube-apiserver kube-scheduler kubectl kwok helm kubeconform etcd crds)

wanted=()
for arg in "${@:-all}"; do
  case $arg in
    offline) wanted+=("${OFFLINE[@]}") ;;
    cluster) wanted+=("${CLUSTER[@]}") ;;
    all) wanted+=("${ALL[@]}") ;;
    *) version_of "$arg" >/dev/null && wanted+=("$arg") ;;
  esac
done

todo=()
for t in "${ALL[@]}"; do # in build order, once each
  for w in "${wanted[@]}"; do
    if [[ $t == "$w" ]]; then up_to_date "$t" || todo+=("$t"); break; fi
  done
done
if [[ ${#todo[@]} == 0 ]]; then
  say "all up to date in $BIN"
  exit 0
fi
say "to build: ${todo[*]} (into $BIN; a cold build of everything takes 12-20 min on 2 cores)"
for t in "${todo[@]}"; do
  [[ $t == etcd ]] || ensure_go
  build "$t"
done
say "done: ${todo[*]}"
