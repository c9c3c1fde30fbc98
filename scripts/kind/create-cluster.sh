#!/usr/bin/env bash
# Create the kind cluster `smelt` and install what the pipeline chart expects to find: Argo Workflows and
# the External Secrets Operator, from their Helm charts at pinned versions. Safe to run again.
# Needs docker, kind, kubectl and helm on PATH (this is for a developer machine; CI uses make cluster-up).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ARGO_CHART_VERSION=1.0.13   # argo/argo-workflows (v4.0.5, the tests' version); argo-values.yaml runs v4.0.10 images
ESO_CHART_VERSION=1.3.2     # external-secrets/external-secrets; API external-secrets.io/v1
CONTEXT=kind-smelt

for cmd in docker kind kubectl helm; do
  command -v "$cmd" >/dev/null || { echo "$cmd is not on PATH (see docs/kubernetes.md, Prerequisites)" >&2; exit 1; }
done

if kind get clusters | grep -qx smelt; then
  echo "kind cluster smelt exists"
else
  kind create cluster --config "$HERE/cluster.yaml"
fi

helm repo add argo https://argoproj.github.io/argo-helm --force-update >/dev/null
helm repo add external-secrets https://charts.external-secrets.io --force-update >/dev/null

echo "installing Argo Workflows (chart $ARGO_CHART_VERSION)"
helm upgrade --install argo-workflows argo/argo-workflows --kube-context "$CONTEXT" \
  --namespace argo --create-namespace --version "$ARGO_CHART_VERSION" \
  --values "$HERE/argo-values.yaml" --wait --timeout 10m

echo "installing External Secrets (chart $ESO_CHART_VERSION)"
helm upgrade --install external-secrets external-secrets/external-secrets --kube-context "$CONTEXT" \
  --namespace external-secrets --create-namespace --version "$ESO_CHART_VERSION" \
  --set installCRDs=true --wait --timeout 10m

kubectl --context "$CONTEXT" create namespace smelt --dry-run=client -o yaml | kubectl --context "$CONTEXT" apply -f -
kubectl --context "$CONTEXT" label namespace smelt pod-security.kubernetes.io/enforce=restricted --overwrite

cat <<DONE
ready. Next:
  skaffold dev                                   # build, load into kind, install the charts (local values)
  kubectl -n argo port-forward svc/argo-workflows-server 2746:2746   # Argo UI on http://localhost:2746
DONE
