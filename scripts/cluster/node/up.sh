#!/usr/bin/env bash
# A one-node Kubernetes cluster with a REAL node, all on loopback (`SMELT_NODE=real make cluster-up`):
#   containerd (Debian's, own root/state/socket) -> etcd -> kube-apiserver -> kube-scheduler
#   -> kube-controller-manager -> kubelet (node "127.0.0.1") -> Argo CRDs -> workflow-controller whose
#   executor is a locally built argoexec image.
# No CNI, no kube-proxy, no bridge, no private address range: pods run with hostNetwork: true (Argo's
# workflowDefaults does it for workflow pods). The Service CIDR is a loopback range, 127.0.100.0/24, and the
# API server listens on the `kubernetes` Service's own address, 127.0.100.1:443, so in-pod clients (argoexec,
# client-go's in-cluster config) reach it through KUBERNETES_SERVICE_HOST/PORT with no overrides.
#
# It runs beside the kwok control plane (scripts/cluster/up.sh) on other ports: API 127.0.100.1:443, etcd
# 23791/23801, kubelet 10250 (+ healthz 10248), controller-manager 10357, Argo controller healthz
# $NODE_CONTROLLER_HEALTHZ. State lives in ${SMELT_NODE_DIR:-~/.cache/smelt/node}: containerd/ (its root
# and images, kept between runs), images/ (the image tarballs), run/ (this cluster: kubeconfig, env, pki,
# pids, logs, kubelet root; removed by down.sh). Every process started is recorded in run/pids/<name>.pid
# (own process group); scripts/cluster/node/down.sh stops exactly those. Running it while the cluster is up
# is a no-op.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/tools/versions.env
source "$HERE/../../tools/versions.env"
TOOLS=${SMELT_TOOLS_DIR:-$HOME/.cache/smelt/tools}
BIN=$TOOLS/bin
DIR=${SMELT_NODE_DIR:-$HOME/.cache/smelt/node}
RUN=$DIR/run P=$DIR/run/pki
SOCK=$DIR/containerd/containerd.sock
API_IP=127.0.100.1 API_PORT=443 SERVICE_CIDR=127.0.100.0/24 NODE=127.0.0.1
ETCD_PORT=${SMELT_NODE_ETCD_PORT:-23791}
ETCD_PEER_PORT=${SMELT_NODE_ETCD_PEER_PORT:-23801}
KCM_PORT=${SMELT_NODE_KCM_PORT:-10357}
HEALTHZ=http://$NODE_CONTROLLER_HEALTHZ/healthz
EXECUTOR_IMAGE=localhost/smelt/argoexec:$ARGO_VERSION
export PATH=$BIN:$PATH

START=$(date +%s.%N)
say() { printf "[node-up %ss] %s\n" "$(awk -v a="$(date +%s.%N)" -v b="$START" "BEGIN { printf \"%.1f\", a - b }")" "$*" >&2; }

for b in etcd kube-apiserver kube-scheduler kube-controller-manager kubelet kubectl workflow-controller-node pause argoexec; do
  [[ -x $BIN/$b ]] || { echo "missing $BIN/$b: run 'make tools' (or scripts/tools/install.sh cluster node)" >&2; exit 1; }
done
[[ -d $TOOLS/crds ]] || { echo "missing $TOOLS/crds: run 'make tools'" >&2; exit 1; }
for b in containerd ctr runc openssl curl python3; do
  command -v "$b" >/dev/null || { echo "missing $b: apt-get install containerd runc openssl curl python3 (see .ci/run)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "the real node runs containerd and a kubelet: it needs root" >&2; exit 1; }

running=0
for f in "$RUN"/pids/*.pid; do
  [[ -e $f ]] || continue
  if kill -0 "$(cat "$f")" 2>/dev/null; then running=$((running + 1)); else rm -f "$f"; fi
done
if ((running > 0)); then
  if curl -sf "$HEALTHZ" >/dev/null && KUBECONFIG=$RUN/kubeconfig kubectl get --raw /readyz >/dev/null 2>&1; then
    say "already up; kubeconfig: $RUN/kubeconfig"
    exit 0
  fi
  echo "a partial real-node cluster is running from $RUN: run 'SMELT_NODE=real make cluster-down' first" >&2
  exit 1
fi
# leftovers of a run that died without down.sh: its mounts must go before its directory does
[[ ! -d $RUN ]] || "$HERE/down.sh" >/dev/null

mkdir -p "$RUN"/{pki,logs,pids,kubelet,pod-logs} "$DIR"/containerd "$DIR"/cni/{bin,net.d}
trap 'echo "node cluster-up failed: stopping what it started; logs: $RUN/logs (kept in $DIR/failed-logs)" >&2
      rm -rf "$DIR/failed-logs"; cp -r "$RUN/logs" "$DIR/failed-logs"; "$HERE/down.sh" >/dev/null' ERR

# shellcheck source=scripts/cluster/lib.sh
source "$HERE/../lib.sh"

# --- containerd: the CRI with cgroupfs, no CNI, the local sandbox image; then the node's images
sed -e "s|@DIR@|$DIR|g" -e "s|@PAUSE_IMAGE@|localhost/smelt/pause:1|g" "$HERE/containerd.toml.in" >"$DIR/containerd/config.toml"
start containerd containerd --config "$DIR/containerd/config.toml"
wait_for containerd 60 ctr -a "$SOCK" version
"$HERE/images.sh" "$DIR" "$SOCK"
say "images in containerd (k8s.io): pause, argoexec, busybox"

# --- PKI, fresh for every start: a CA; the API server's serving certificate (the `kubernetes` Service's IP
#     127.0.100.1 and loopback); its client certificate for the kubelet API; the kubelet's client certificate
#     (system:node:127.0.0.1) and serving certificate; the service-account key pair; one admin token.
cert() { # name subject [extensions] -> $P/name.{key,crt}, signed by the CA
  openssl req -newkey rsa:2048 -nodes -keyout "$P/$1.key" -out "$P/$1.csr" -subj "$2" 2>/dev/null
  printf '%s\n' "${3:-extendedKeyUsage=clientAuth}" >"$P/$1.ext"
  openssl x509 -req -in "$P/$1.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 30 \
    -extfile "$P/$1.ext" -out "$P/$1.crt" 2>/dev/null
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 30 -subj /CN=smelt-node-ca 2>/dev/null
cert apiserver /CN=kube-apiserver "$(printf 'subjectAltName=IP:%s,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth' "$API_IP")"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
cert kubelet-client "/O=system:nodes/CN=system:node:$NODE"
cert kubelet "/CN=$NODE" "$(printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth' "$NODE")"
openssl genrsa -out "$P/sa.key" 2048 2>/dev/null
openssl rsa -in "$P/sa.key" -pubout -out "$P/sa.pub" 2>/dev/null
TOKEN=$(openssl rand -hex 24)
echo "$TOKEN,smelt-admin,smelt-admin,system:masters" >"$P/tokens.csv"
chmod 600 "$P"/*.key "$P/tokens.csv"

kubeconfig() { # user-yaml -> a kubeconfig for the API server
  cat <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: smelt-node
  cluster:
    server: https://$API_IP:$API_PORT
    certificate-authority-data: $(base64 -w0 "$P/ca.crt")
users:
- name: user
  user: $1
contexts:
- name: smelt-node
  context: {cluster: smelt-node, user: user, namespace: default}
current-context: smelt-node
KUBECONFIG
}
umask 077
kubeconfig "{token: $TOKEN}" >"$RUN/kubeconfig"
kubeconfig "{client-certificate: $P/kubelet-client.crt, client-key: $P/kubelet-client.key}" >"$RUN/kubelet.kubeconfig"
umask 022
printf 'export KUBECONFIG=%s\nexport PATH=%s:%s\n' "$RUN/kubeconfig" "$BIN" "\$PATH" >"$RUN/env"
export KUBECONFIG=$RUN/kubeconfig
say "certificates and kubeconfigs written to $RUN"

start etcd etcd --name smelt-node --data-dir "$RUN/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "smelt-node=http://127.0.0.1:$ETCD_PEER_PORT" --max-request-bytes 8388608
wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"

# The node stays NotReady (no CNI: "network plugin not ready"), so nothing may taint it: no
# TaintNodesByCondition admission here, no node-lifecycle controller below. hostNetwork pods need no CNI.
start kube-apiserver kube-apiserver \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address "$API_IP" --advertise-address "$API_IP" --secure-port "$API_PORT" \
  --service-cluster-ip-range "$SERVICE_CIDR" --endpoint-reconciler-type none \
  --tls-cert-file "$P/apiserver.crt" --tls-private-key-file "$P/apiserver.key" \
  --client-ca-file "$P/ca.crt" --token-auth-file "$P/tokens.csv" --authorization-mode Node,RBAC \
  --kubelet-client-certificate "$P/apiserver-kubelet-client.crt" --kubelet-client-key "$P/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$P/ca.crt" --kubelet-preferred-address-types InternalIP \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$P/sa.pub" --service-account-signing-key-file "$P/sa.key" \
  --enable-priority-and-fairness=false --profiling=false \
  --disable-admission-plugins TaintNodesByCondition
wait_for kube-apiserver 120 kubectl get --raw /readyz

start kube-scheduler kube-scheduler --kubeconfig "$RUN/kubeconfig" --leader-elect=false \
  --bind-address 127.0.0.1 --secure-port 0
start kube-controller-manager kube-controller-manager --kubeconfig "$RUN/kubeconfig" --leader-elect=false \
  --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --profiling=false \
  --controllers '*,-node-lifecycle-controller' \
  --service-account-private-key-file "$P/sa.key" --root-ca-file "$P/ca.crt"

# --- the kubelet, named by its IP: --node-ip refuses loopback, but an IP given as --hostname-override
#     becomes the node's InternalIP, so the API server reaches the kubelet API on 127.0.0.1:10250.
sed -e "s|@DIR@|$DIR|g" -e "s|@RUN@|$RUN|g" -e "s|@PKI@|$P|g" "$HERE/kubelet-config.yaml.in" >"$RUN/kubelet-config.yaml"
start kubelet kubelet --config "$RUN/kubelet-config.yaml" --kubeconfig "$RUN/kubelet.kubeconfig" \
  --root-dir "$RUN/kubelet" --hostname-override "$NODE" --v "${SMELT_KUBELET_V:-1}"

crds=()
for f in "$TOOLS"/crds/*/*.yaml; do crds+=(-f "$f"); done
kubectl apply --server-side "${crds[@]}" >/dev/null
kubectl apply -f "$HERE/bootstrap.yaml" >/dev/null
wait_for "kubelet healthz" 60 curl -sf http://127.0.0.1:10248/healthz
wait_for "node $NODE registered" 60 kubectl get node "$NODE"
wait_for "controller-manager (default ServiceAccount, kube-root-ca.crt)" 90 \
  kubectl -n default get serviceaccount/default configmap/kube-root-ca.crt
wait_for "CRDs established" 120 kubectl wait --for condition=established --timeout=5s crd --all

LEADER_ELECTION_DISABLE=true DEFAULT_REQUEUE_TIME=${SMELT_ARGO_REQUEUE:-1s} \
  start workflow-controller workflow-controller-node --kubeconfig "$RUN/kubeconfig" --namespace argo \
  --executor-image "$EXECUTOR_IMAGE" --executor-image-pull-policy IfNotPresent --loglevel info
wait_for workflow-controller 60 curl -sf "$HEALTHZ"

say "up: source $RUN/env   (kubeconfig $RUN/kubeconfig; node $NODE runs real containers, hostNetwork only)"
