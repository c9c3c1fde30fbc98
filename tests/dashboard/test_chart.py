"""The dashboard's Helm chart: helm lint, every ci/ scenario rendered and checked by kubeconform -strict
against the schemas the project keeps (tests/schemas), the exposure rule, the restricted Pod Security
Standard, documented values, and `helm install` on the local control plane, whose real API server validates
every object and enforces the restricted standard on the pods."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tooling import ROOT, VERSIONS, kubeconform, run, tool

pytestmark = pytest.mark.tools  # helm, kubeconform: runs after the suites that need no build

CHART = ROOT / "charts" / "dashboard"
SCENARIOS = sorted((CHART / "ci").glob("*.yaml"))
KUBE = VERSIONS["KUBE_VERSION"].removeprefix("v")
IDS = [p.stem for p in SCENARIOS]
# ci/node.yaml runs on the real node, which has no CNI: its pod must share the node's network, the one thing
# the restricted standard forbids there (test_the_node_profile_departs_from_restricted_by_hostnetwork_only).
RESTRICTED = [p for p in SCENARIOS if p.stem != "node"]
RESTRICTED_IDS = [p.stem for p in RESTRICTED]


def helm(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run([tool("helm"), *args], check=check, timeout=180)


def render(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return helm("template", "smelt", CHART, "--kube-version", KUBE, *args, check=check)


def manifests(values: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(render("-f", values).stdout) if d]


def pod_specs(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for doc in docs:
        if doc["kind"] == "Deployment":
            out.append((f"Deployment/{doc['metadata']['name']}", doc["spec"]["template"]["spec"]))
        elif doc["kind"] == "Pod":
            out.append((f"Pod/{doc['metadata']['name']}", doc["spec"]))
    return out


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """The restricted Pod Security Standard's rules (v1.33), checked on a pod spec."""
    problems = []
    pod_ctx = pod.get("securityContext", {})
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            problems.append(f"{key} is set")
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                         "projected", "secret"}:  # fmt: skip
            problems.append(f"volume {volume['name']} is {kinds}")
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        ctx = container.get("securityContext", {})
        name = container["name"]
        if ctx.get("privileged"):
            problems.append(f"{name}: privileged")
        if ctx.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        if "ALL" not in ctx.get("capabilities", {}).get("drop", []) or set(
            ctx.get("capabilities", {}).get("add", [])
        ) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: capabilities do not drop ALL")
        if not (ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot"))):
            problems.append(f"{name}: runAsNonRoot is not true")
        if ctx.get("runAsUser", pod_ctx.get("runAsUser")) == 0:
            problems.append(f"{name}: runs as uid 0")
        seccomp = ctx.get("seccompProfile", pod_ctx.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: seccompProfile is {seccomp}")
        if container.get("ports") and any(p.get("hostPort") for p in container["ports"]):
            problems.append(f"{name}: hostPort")
    return problems


@pytest.mark.parametrize("values", SCENARIOS, ids=IDS)
def test_helm_lint(values: Path) -> None:
    result = helm("lint", CHART, "--strict", "-f", values, "--kube-version", KUBE)
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("values", SCENARIOS, ids=IDS)
def test_every_scenario_passes_kubeconform_strict(values: Path) -> None:
    result = kubeconform(render("-f", values).stdout)
    summary = re.search(
        r"(\d+) resources found.*Valid: (\d+), Invalid: (\d+), Errors: (\d+), Skipped: (\d+)", result.stdout
    )
    assert summary, result.stdout
    found, valid, invalid, errors, skipped = map(int, summary.groups())
    assert found == valid > 0 and invalid == errors == skipped == 0


def test_kubeconform_catches_what_it_should() -> None:
    """The check above can fail: an unknown field in a rendered Deployment is refused."""
    docs = manifests(SCENARIOS[0])
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    broken = run([tool("kubeconform"), "-strict", "-kubernetes-version", KUBE, "-schema-location",
                  str(ROOT / "tests/schemas/kubernetes/{{.NormalizedKubernetesVersion}}-standalone-strict/{{.ResourceKind}}{{.KindSuffix}}.json"),
                  "-"], input=yaml.safe_dump(deployment), check=False)  # fmt: skip
    assert broken.returncode != 0 and "imagePullPolicyy" in broken.stdout


@pytest.mark.parametrize(
    "sets",
    [
        ["--set", "ingress.enabled=true"],
        ["--set", "service.type=LoadBalancer"],
        ["--set", "service.type=NodePort"],
    ],
    ids=["ingress", "loadbalancer", "nodeport"],
)
def test_no_public_exposure_without_authentication(sets: list[str]) -> None:
    refused = render("-f", CHART / "ci" / "local-duckdb.yaml", *sets, check=False)
    assert refused.returncode != 0
    assert "refusing to expose the dashboard without authentication" in refused.stderr
    allowed = render("-f", CHART / "ci" / "local-duckdb.yaml", *sets, "--set", "auth.allowAnonymous=true")
    assert "kind: Deployment" in allowed.stdout


def test_every_ingress_in_the_scenarios_has_authentication_or_an_explicit_waiver() -> None:
    for values in SCENARIOS:
        for doc in manifests(values):
            if doc["kind"] == "Ingress":
                auth = doc["metadata"]["annotations"]["smelt.dev/auth"]
                config = yaml.safe_load(values.read_text())
                assert auth in ("basic", "oauth2-proxy") or config["auth"]["allowAnonymous"] is True, (
                    values.name
                )


def test_modes_refuse_missing_settings() -> None:
    base = ["-f", str(CHART / "ci" / "local-duckdb.yaml")]
    cases = {
        "auth.mode=basic": "needs auth.basic.existingSecret",
        "auth.mode=oauth2-proxy": "needs auth.oauth2Proxy.existingSecret",
        "warehouse=snowflake": "needs snowflake.account",
    }
    for setting, message in cases.items():
        failed = render(*base, "--set", setting, check=False)
        assert failed.returncode != 0 and message in failed.stderr, setting


def test_values_schema_rejects_unknown_keys_and_bad_values() -> None:
    base = ["-f", str(CHART / "ci" / "local-duckdb.yaml")]
    for setting, word in (("replicas=3", "replicas"), ("warehouse=oracle", "warehouse"),
                          ("auth.mode=ldap", "mode"), ("dashboard.port=80", "port")):  # fmt: skip
        failed = render(*base, "--set", setting, check=False)
        assert failed.returncode != 0 and word in failed.stderr, setting
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert set(schema["properties"]) == set(values)


def test_every_value_is_documented() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    undocumented = []
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)([A-Za-z0-9]+):\s*(\S.*)?$", line)
        if not match or not match.group(3):  # a parent mapping: its children carry the documentation
            continue
        above = [text.strip() for text in lines[max(0, i - 6) : i] if text.strip()]
        block = []
        for comment in reversed(above):
            if not comment.startswith("#"):
                break
            block.append(comment)
        if not any(c.startswith("# --") for c in block):
            undocumented.append(match.group(2))
    assert undocumented == []


def test_the_node_profile_departs_from_restricted_by_hostnetwork_only() -> None:
    pods = pod_specs(manifests(CHART / "ci" / "node.yaml"))
    app = next(pod for name, pod in pods if name.startswith("Deployment/"))
    assert restricted_violations(app) == ["hostNetwork is set"]
    config = next(d for d in manifests(CHART / "ci" / "node.yaml") if d["kind"] == "ConfigMap")
    assert config["data"]["SMELT_DASHBOARD_HOST"] == "127.0.0.1"  # the host's interfaces never see it


@pytest.mark.parametrize("values", RESTRICTED, ids=RESTRICTED_IDS)
def test_pods_meet_the_restricted_standard_and_the_image_contract(values: Path) -> None:
    docs = manifests(values)
    pods = pod_specs(docs)
    assert {name.split("/")[0] for name, _ in pods} == {"Deployment", "Pod"}  # the app, and the helm test pod
    for name, pod in pods:
        assert restricted_violations(pod) == [], name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, (name, container["name"])
            assert container.get("resources", {}).get("requests"), (name, container["name"])
    app = next(pod for name, pod in pods if name.startswith("Deployment"))["containers"][0]
    assert app["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert app["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"name": "tmp", "mountPath": "/tmp"} in app["volumeMounts"]


def test_production_reads_the_reporter_key_from_an_external_secret_never_a_value() -> None:
    """ci/snowflake-production.yaml: the key comes from AWS Secrets Manager through an ExternalSecret and the
    pipeline's SecretStore, is mounted read-only where SNOWFLAKE_PRIVATE_KEY_PATH points, and the login is the
    reporter of snowflake/grants.sql (the chart's defaults name the same user, role and warehouse)."""
    from workflows.warehouse.snowflake_scripts import PARAMETERS

    docs = manifests(CHART / "ci" / "snowflake-production.yaml")
    [secret] = [d for d in docs if d["kind"] == "ExternalSecret"]
    assert secret["apiVersion"] == "external-secrets.io/v1"
    assert secret["spec"]["secretStoreRef"] == {"name": "smelt-secrets", "kind": "SecretStore"}
    assert secret["spec"]["data"] == [{"secretKey": "private-key",
                                       "remoteRef": {"key": "smelt/snowflake/reporter", "property": "private_key"}}]  # fmt: skip
    name = secret["spec"]["target"]["name"]
    [app] = [d["spec"]["template"]["spec"] for d in docs if d["kind"] == "Deployment"]
    assert {"name": "snowflake-key", "secret": {"secretName": name, "defaultMode": 0o440}} in app["volumes"]
    container = app["containers"][0]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "snowflake-key")
    assert mount["readOnly"] is True and "env" not in container  # the key is a file, never a variable
    [config] = [d["data"] for d in docs if d["kind"] == "ConfigMap"]
    assert config["SNOWFLAKE_PRIVATE_KEY_PATH"] == f"{mount['mountPath']}/private-key"
    defaults = {"SNOWFLAKE_USER": "reporter_user", "SNOWFLAKE_ROLE": "reporter_role",
                "SNOWFLAKE_WAREHOUSE": "dashboard_warehouse"}  # fmt: skip
    for values in (
        "snowflake-production.yaml",
        "snowflake-basic-auth.yaml",
    ):  # the latter: the chart's defaults
        data = next(d["data"] for d in manifests(CHART / "ci" / values) if d["kind"] == "ConfigMap")
        assert {k: data[k] for k in defaults} == {k: PARAMETERS[p][1] for k, p in defaults.items()}, values
    assert config["SMELT_DASHBOARD_SNOWFLAKE_TIMEOUT_SECONDS"] == "10"
    assert "PRIVATE KEY" not in render("-f", CHART / "ci" / "snowflake-production.yaml").stdout


def test_the_restricted_check_catches_violations() -> None:
    pod = pod_specs(manifests(SCENARIOS[0]))[0][1]
    pod["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    pod["hostNetwork"] = True
    assert len(restricted_violations(pod)) == 2


def test_network_policy_opens_only_what_each_mode_needs() -> None:
    def policy(values: str) -> dict[str, Any]:
        return next(d for d in manifests(CHART / "ci" / values) if d["kind"] == "NetworkPolicy")["spec"]

    local = policy("local-duckdb.yaml")
    assert [r["ports"][0]["port"] for r in local["egress"]] == [53]  # DNS only: the snapshot is a volume
    cloud = policy("snowflake-basic-auth.yaml")
    assert [r["ports"][0]["port"] for r in cloud["egress"]] == [53, 443]
    sources = cloud["ingress"][0]["from"]
    assert sources[0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ingress-nginx"}
    proxied = policy("oauth2-proxy.yaml")
    assert proxied["ingress"][0]["ports"] == [
        {"port": 4180, "protocol": "TCP"}
    ]  # only the proxy is reachable


def test_the_helm_test_pod_checks_a_live_dashboard(served: str, tmp_path: Path) -> None:
    """The test pod's script, run here against a served dashboard (no kubelet runs pods on this cluster)."""
    docs = manifests(CHART / "ci" / "local-duckdb.yaml")
    test_pod = next(d for d in docs if d["kind"] == "Pod")
    assert test_pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    script = test_pod["spec"]["containers"][0]["args"][0]
    service = re.search(r'base = "(http://[^"]+)"', script).group(1)
    live = subprocess.run(
        ["python3", "-c", script.replace(service, served)], capture_output=True, text=True, timeout=60
    )
    assert live.returncode == 0, live.stderr
    from bench.dashboard_support import serve

    with serve(tmp_path / "no-warehouse", ready="/healthz") as empty:
        unready = subprocess.run(["python3", "-c", script.replace(service, empty)], capture_output=True, text=True,
                                 timeout=60)  # fmt: skip
    assert unready.returncode != 0


@pytest.mark.cluster
@pytest.mark.parametrize("values", RESTRICTED, ids=RESTRICTED_IDS)
def test_helm_install_on_the_local_control_plane(kubeconfig: Path, values: Path) -> None:
    """The real kube-apiserver validates every object, and the restricted standard is enforced on pods."""
    kubectl = [tool("kubectl"), "--kubeconfig", str(kubeconfig)]
    namespace = f"dash-{values.stem[:20]}-{uuid.uuid4().hex[:6]}"
    run([*kubectl, "create", "namespace", namespace])
    try:
        run([*kubectl, "label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted",
             "pod-security.kubernetes.io/warn=restricted"])  # fmt: skip
        installed = helm("install", "smelt", CHART, "-f", values, "--namespace", namespace,
                         "--kubeconfig", kubeconfig, "--timeout", "120s")  # fmt: skip
        assert "would violate PodSecurity" not in installed.stderr + installed.stdout
        listed = run(
            [*kubectl, "-n", namespace, "get", "deployment,service,configmap,serviceaccount", "-o", "name"]
        )
        assert "deployment.apps/smelt-dashboard" in listed.stdout
        # Pods are what the restricted standard is enforced on: create the app's and the test's, server-side.
        docs = [d for d in yaml.safe_load_all(helm("get", "manifest", "smelt", "-n", namespace, "--kubeconfig",
                                                   kubeconfig).stdout) if d]  # fmt: skip
        hooks = helm("get", "hooks", "smelt", "-n", namespace, "--kubeconfig", kubeconfig).stdout
        docs += [d for d in yaml.safe_load_all(hooks) if d]
        for name, spec in pod_specs(docs):
            pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"check-{uuid.uuid4().hex[:8]}"},
                   "spec": spec}  # fmt: skip
            accepted = run([*kubectl, "-n", namespace, "create", "--dry-run=server", "-f", "-"],
                           input=json.dumps(pod), check=False)  # fmt: skip
            assert accepted.returncode == 0, (name, accepted.stderr)
        # The enforcement is on: a privileged variant of the same pod is refused.
        spec = pod_specs(docs)[0][1]
        spec["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
        bad = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "check-bad"}, "spec": spec}
        refused = run([*kubectl, "-n", namespace, "create", "--dry-run=server", "-f", "-"], input=json.dumps(bad),
                      check=False)  # fmt: skip
        assert refused.returncode != 0 and "violates PodSecurity" in refused.stderr
        helm("uninstall", "smelt", "-n", namespace, "--kubeconfig", kubeconfig)
    finally:
        run([*kubectl, "delete", "namespace", namespace, "--wait=false"], check=False)
