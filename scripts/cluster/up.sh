#!/usr/bin/env bash
# Start a local Kubernetes control plane with the real Argo Workflows controller, on 127.0.0.1 only:
#   etcd -> kube-apiserver -> kube-scheduler -> kwok (one simulated node; pods get phases, no containers run)
#   -> Argo CRDs -> workflow-controller (all namespaces) -> the task-result stand-in (taskresults.py).
# No kubelet and no container runtime: this proves orchestration (what the controller schedules, retries,
# skips and serialises), never what a step's container does.
#
# State lives in ${SMELT_CLUSTER_DIR:-$HOME/.cache/smelt/cluster}: kubeconfig, env (source it), pids/, logs/.
# Every process started here is recorded in pids/<name>.pid with its own process group; down.sh stops
# exactly those. Running it while the control plane is up is a no-op that prints the kubeconfig.
#
# SMELT_NODE=real starts a cluster with a real node instead (containerd + kubelet + controller-manager, pods
# really run): scripts/cluster/node/up.sh, with its own ports and state, so both can run side by side.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case ${SMELT_NODE:-kwok} in
  kwok) ;;
  real) exec "$HERE/node/up.sh" ;;
  *) echo "SMELT_NODE=$SMELT_NODE: expected kwok (the default) or real" >&2; exit 2 ;;
esac
# shellcheck source=scripts/tools/versions.env
source "$HERE/../tools/versions.env"
TOOLS=${SMELT_TOOLS_DIR:-$HOME/.cache/smelt/tools}
BIN=$TOOLS/bin
RUN=${SMELT_CLUSTER_DIR:-$HOME/.cache/smelt/cluster}
API_PORT=${SMELT_API_PORT:-16443}
ETCD_PORT=${SMELT_ETCD_PORT:-23790}
ETCD_PEER_PORT=${SMELT_ETCD_PEER_PORT:-23800}
KWOK_PORT=${SMELT_KWOK_PORT:-10247}
HEALTHZ=http://127.0.0.1:6060/healthz # the controller's, patched to loopback in scripts/tools/install.sh
export PATH=$BIN:$PATH

START=$(date +%s.%N)
say() { printf "[cluster-up %ss] %s\n" "$(awk -v a="$(date +%s.%N)" -v b="$START" "BEGIN { printf \"%.1f\", a - b }")" "$*" >&2; }

for b in etcd kube-apiserver kube-scheduler kubectl kwok workflow-controller; do
  [[ -x $BIN/$b ]] || { echo "missing $BIN/$b: run 'make tools' (or scripts/tools/install.sh cluster)" >&2; exit 1; }
done
[[ -d $TOOLS/crds ]] || { echo "missing $TOOLS/crds: run 'make tools'" >&2; exit 1; }

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
  echo "a partial control plane is running from $RUN: run 'make cluster-down' first" >&2
  exit 1
fi

rm -rf "$RUN" && mkdir -p "$RUN"/{pki,logs,pids}
trap 'echo "cluster-up failed: stopping what it started (logs were in $RUN/logs)" >&2; "$HERE/down.sh" >/dev/null' ERR
P=$RUN/pki

# shellcheck source=scripts/cluster/lib.sh
source "$HERE/lib.sh"

# --- PKI: a throwaway CA, the API server's serving certificate, the service-account signing key and one
#     static admin token. Fresh for every start, never shared.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 30 -subj /CN=smelt-local-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$P/apiserver.key" -out "$P/apiserver.csr" -subj /CN=kube-apiserver 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >"$P/ext"
openssl x509 -req -in "$P/apiserver.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 30 \
  -extfile "$P/ext" -out "$P/apiserver.crt" 2>/dev/null
openssl genrsa -out "$P/sa.key" 2048 2>/dev/null
openssl rsa -in "$P/sa.key" -pubout -out "$P/sa.pub" 2>/dev/null
TOKEN=$(openssl rand -hex 24)
echo "$TOKEN,smelt-admin,smelt-admin,system:masters" >"$P/tokens.csv"
chmod 600 "$P"/*.key "$P/tokens.csv"

umask 077
cat >"$RUN/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: smelt-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 "$P/ca.crt")
users:
- name: smelt-admin
  user:
    token: $TOKEN
contexts:
- name: smelt-local
  context: {cluster: smelt-local, user: smelt-admin, namespace: default}
current-context: smelt-local
KUBECONFIG
umask 022
cat >"$RUN/env" <<ENV
export KUBECONFIG=$RUN/kubeconfig
export PATH=$BIN:\$PATH
ENV
export KUBECONFIG=$RUN/kubeconfig
say "certificates and kubeconfig written to $RUN"

start etcd etcd --name smelt-local --data-dir "$RUN/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "smelt-local=http://127.0.0.1:$ETCD_PEER_PORT" --max-request-bytes 8388608
wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"

# No kube-controller-manager runs, so nothing would lift the not-ready taint that TaintNodesByCondition puts
# on a new node; the Endpoints reconciler cannot use a loopback address.
start kube-apiserver kube-apiserver \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
  --tls-cert-file "$P/apiserver.crt" --tls-private-key-file "$P/apiserver.key" \
  --client-ca-file "$P/ca.crt" --token-auth-file "$P/tokens.csv" --authorization-mode RBAC \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$P/sa.pub" --service-account-signing-key-file "$P/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none \
  --enable-priority-and-fairness=false --profiling=false \
  --disable-admission-plugins TaintNodesByCondition
wait_for kube-apiserver 120 kubectl get --raw /readyz

start kube-scheduler kube-scheduler --kubeconfig "$RUN/kubeconfig" --leader-elect=false \
  --bind-address 127.0.0.1 --secure-port 0

# The CRDs a production cluster has once Argo Workflows and External Secrets are installed, from their Go
# modules (scripts/tools/install.sh crds). Argo's full CRDs make the API server validate every field.
crds=()
for f in "$TOOLS"/crds/*/*.yaml; do crds+=(-f "$f"); done
kubectl apply --server-side "${crds[@]}" >/dev/null
wait_for "CRDs established" 120 kubectl wait --for condition=established --timeout=5s crd --all
kubectl apply -f "$HERE/bootstrap.yaml" >/dev/null
say "Argo and External Secrets CRDs, namespace argo and node kwok-node-0 created"

start kwok kwok --kubeconfig "$RUN/kubeconfig" --config "$HERE/kwok-stages.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --server-address "127.0.0.1:$KWOK_PORT"
wait_for "kwok node" 60 kubectl wait --for condition=Ready --timeout=1s node/kwok-node-0

LEADER_ELECTION_DISABLE=true DEFAULT_REQUEUE_TIME=${SMELT_ARGO_REQUEUE:-1s} \
  start workflow-controller workflow-controller --kubeconfig "$RUN/kubeconfig" --namespace argo \
  --executor-image "quay.io/argoproj/argoexec:$ARGO_VERSION" --loglevel info
wait_for workflow-controller 60 curl -sf "$HEALTHZ"

SMELT_K8S_SERVER="https://127.0.0.1:$API_PORT" SMELT_K8S_TOKEN=$TOKEN SMELT_K8S_CA=$P/ca.crt \
  start taskresults python3 -u "$HERE/taskresults.py"

say "up: source $RUN/env   (kubeconfig $RUN/kubeconfig)"
