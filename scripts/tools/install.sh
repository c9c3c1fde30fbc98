#!/usr/bin/env bash
# Build-or-reuse the tools smelt's checks and local control plane need, from the Go module proxy and Debian
# packages only (no GitHub downloads, no container registry, no Docker).
#
#   scripts/tools/install.sh [offline|cluster|all|TOOL...]      (default: all)
#     offline  helm kubeconform argo                   the manifest checks in `make test`
#     cluster  etcd kube-apiserver kube-scheduler kubectl kwok workflow-controller crds   (`make cluster-up`)
#     node     kubelet kube-controller-manager argoexec workflow-controller-node pause  (`SMELT_NODE=real make cluster-up`)
#   crds: the Argo and External Secrets CRDs, from their Go modules, into crds/ (the cluster installs them)
#
# Everything lands in ${SMELT_TOOLS_DIR:-$HOME/.cache/smelt/tools}, outside the work tree: bin/ (the tools),
# go/ (module and build caches, so a rebuild after a version bump is incremental), src/ (patched module
# copies), logs/ (one build log per tool, build-times.tsv). A tool whose binary and version stamp are present
# is skipped, so a warm run is a no-op. FORCE=1 rebuilds.
#
# The Go builds run as three parallel lanes sharing one GOCACHE: every Kubernetes binary in ONE `go build`
# (kube-apiserver, kubelet, kube-controller-manager... share most of their packages), the Argo binaries in
# one `go build` from the same module copy, and the small `go install`s. Each lane logs to logs/<lane>.log.
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
    kube-apiserver | kube-scheduler | kubectl | kubelet | kube-controller-manager) echo "$KUBE_VERSION" ;;
    argoexec) echo "$ARGO_VERSION" ;;
    workflow-controller-node) echo "$ARGO_VERSION healthz=$NODE_CONTROLLER_HEALTHZ" ;;
    pause) echo "src-$(sha256sum "$HERE/pause/main.go" | cut -c1-16)" ;;
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
  # Two later additions, applied to older copies too (idempotent):
  # - the healthz address becomes a link-time variable (default unchanged), so the real node's controller
  #   (workflow-controller-node) can run beside the kwok cluster's on another port;
  # - upstream's workflow/executor/osspecific/signal_linux.go is a SYMLINK to signal_darwin.go and module zips
  #   drop symlinks, so argoexec does not build from the proxy's copy ("undefined: Setpgid"): recreate it.
  local main=$dst/cmd/workflow-controller/main.go
  if grep -q 'http.ListenAndServe("127.0.0.1:6060", nil)' "$main"; then
    sed -i 's|http.ListenAndServe("127.0.0.1:6060", nil)|http.ListenAndServe(healthzAddr, nil)|' "$main"
    printf 'package main\n\n// healthzAddr is where /healthz listens (smelt: loopback; -X main.healthzAddr=... to move it).\nvar healthzAddr = "127.0.0.1:6060"\n' \
      >"$dst/cmd/workflow-controller/smelt_healthz.go"
  fi
  grep -q 'ListenAndServe(healthzAddr, nil)' "$main" ||
    { echo "could not make the controller's healthz address a variable: main.go changed upstream" >&2; return 1; }
  [[ -e $dst/workflow/executor/osspecific/signal_linux.go ]] ||
    ln -s signal_darwin.go "$dst/workflow/executor/osspecific/signal_linux.go"
  echo "$dst"
}
argo_flags() {
  local x=$ARGO_MOD flags="-s -w"
  flags+=" -X $x.version=$ARGO_VERSION -X $x.gitTag=$ARGO_VERSION -X $x.gitTreeState=clean"
  flags+=" -X $x.gitCommit=0000000000000000000000000000000000000000 -X $x.buildDate=1970-01-01T00:00:00Z"
  echo "$flags"
}
build_argo_group() { # argo workflow-controller argoexec... : one `go build` (shared packages compile once)
  local src out=$TOOLS/tmp/argo.$$ t pkgs=()
  src=$(argo_src)
  for t in "$@"; do pkgs+=("./cmd/$t"); done
  rm -rf "$out" && mkdir -p "$out"
  (cd "$src" && go build -trimpath -ldflags "$(argo_flags)" -o "$out/" "${pkgs[@]}")
  for t in "$@"; do mv -f "$out/$t" "$BIN/$t"; done
  rm -rf "$out"
}
build_workflow_controller_node() { # the controller with its /healthz on another port (beside the kwok cluster's)
  local src; src=$(argo_src)
  (cd "$src" && go build -trimpath -ldflags "$(argo_flags) -X main.healthzAddr=$NODE_CONTROLLER_HEALTHZ" \
    -o "$BIN/workflow-controller-node" ./cmd/workflow-controller)
}
# The pod sandbox's process (scripts/tools/pause/main.go): static, a few lines, the project's own source.
build_pause() { (cd "$HERE/pause" && go build -trimpath -ldflags "-s -w" -o "$BIN/pause" .); }

# --- Kubernetes: `go install k8s.io/kubernetes/cmd/...` refuses a module with replace directives, so a
#     wrapper module requires k8s.io/kubernetes and points each staging repo at its published v0.X.Y.
KUBE_CMDS=(kube-apiserver kube-scheduler kubectl kubelet kube-controller-manager)
kube_src() {
  local dst=$SRC/kube-$KUBE_VERSION
  if [[ ! -f $dst/go.mod ]]; then
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
  fi
  # .ready lists the commands the wrapper resolves; a copy made before the node tools gets the rest added.
  if [[ ! -f $dst/.ready || $(cat "$dst/.ready") != "${KUBE_CMDS[*]}" ]]; then
    local c gets=()
    for c in "${KUBE_CMDS[@]}"; do gets+=("k8s.io/kubernetes/cmd/$c@$KUBE_VERSION"); done
    (cd "$dst" && GOFLAGS="$GOFLAGS -mod=mod" go get "${gets[@]}")
    echo "${KUBE_CMDS[*]}" >"$dst/.ready"
  fi
  echo "$dst"
}
build_kube_group() { # kube-apiserver kubelet ... : ONE `go build` for all of them
  local src out=$TOOLS/tmp/kube.$$ t pkgs=()
  src=$(kube_src)
  local minor=${KUBE_VERSION#v1.} flags="-s -w" p
  minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    flags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for t in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$t"); done
  rm -rf "$out" && mkdir -p "$out"
  (cd "$src" && GOFLAGS="$GOFLAGS -mod=mod" go build -trimpath -ldflags "$flags" -o "$out/" "${pkgs[@]}")
  for t in "$@"; do mv -f "$out/$t" "$BIN/$t"; done
  rm -rf "$out"
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

build() { # lane tool...: run the tools' builder (one for a group) with a log, a timing line and version stamps
  local lane=$1 t0 rc=0 t; shift
  t0=$(date +%s)
  say "building $* (log: $LOGS/$lane.log)"
  case $lane in
    kube) build_kube_group "$@" ;;
    argo) build_argo_group "$@" ;;
    *) "build_${1//-/_}" ;;
  esac >"$LOGS/$lane.log" 2>&1 || rc=$?
  local took=$(($(date +%s) - t0))
  printf '%s\t%s\t%s\t%s\t%ss\n' "$(date -Is)" "$*" "$(version_of "$1")" "$([[ $rc == 0 ]] && echo ok || echo "FAIL($rc)")" \
    "$took" >>"$LOGS/build-times.tsv"
  if [[ $rc != 0 ]]; then
    say "FAILED $* after ${took}s; last lines of $LOGS/$lane.log:"
    tail -n 25 "$LOGS/$lane.log" >&2
    return "$rc"
  fi
  for t in "$@"; do
    version_of "$t" >"$STAMPS/$t"
    say "built $t in ${took}s$([[ -f $BIN/$t ]] && echo " ($(($(stat -c %s "$BIN/$t") / 1048576)) MiB)")"
  done
}

OFFLINE=(argo helm kubeconform)
CLUSTER=(workflow-controller kube-apiserver kube-scheduler kubectl kwok etcd crds)
NODE=(kubelet kube-controller-manager argoexec workflow-controller-node pause)
ALL=(argo workflow-controller argoexec kube-apiserver kube-scheduler kubectl kubelet kube-controller-manager
  workflow-controller-node pause kwok helm kubeconform etcd crds)
KUBE_GROUP=" kube-apiserver kube-scheduler kubectl kubelet kube-controller-manager "
ARGO_GROUP=" argo workflow-controller argoexec "

wanted=()
for arg in "${@:-all}"; do
  case $arg in
    offline) wanted+=("${OFFLINE[@]}") ;;
    cluster) wanted+=("${CLUSTER[@]}") ;;
    node) wanted+=("${NODE[@]}") ;;
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
say "to build: ${todo[*]} (into $BIN; a cold build of everything takes 15-25 min on 2 cores)"
kube=() argo=() rest=()
for t in "${todo[@]}"; do
  if [[ $KUBE_GROUP == *" $t "* ]]; then kube+=("$t")
  elif [[ $ARGO_GROUP == *" $t "* ]]; then argo+=("$t")
  else rest+=("$t"); fi
done
if [[ ${todo[*]} != etcd ]]; then
  ensure_go
  # The module copies first (both lanes and crds read them), then the lanes in parallel on one Go cache.
  if ((${#argo[@]})) || [[ " ${rest[*]} " == *" crds "* || " ${rest[*]} " == *" workflow-controller-node "* ]]; then
    argo_src >/dev/null
  fi
  ((${#kube[@]} == 0)) || kube_src >/dev/null
fi
mkdir -p "$TOOLS/tmp"
pids=()
if ((${#kube[@]})); then build kube "${kube[@]}" & pids+=($!); fi
if ((${#argo[@]})) || ((${#rest[@]})); then
  (
    if ((${#argo[@]})); then build argo "${argo[@]}"; fi
    for t in "${rest[@]}"; do build "$t" "$t"; done
  ) &
  pids+=($!)
fi
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
((rc == 0)) || { say "some builds failed (see above)"; exit 1; }
say "done: ${todo[*]}"
