"""The pods a rendered manifest would run, and the restricted Pod Security Standard's rules for them.

Argo's template pods are assembled the way the controller builds them: the template's container and
volumes, the template's (or workflow's) pod security context, plus Argo's own init and wait containers,
which run with the executor security context that scripts/kind/argo-values.yaml gives the controller.
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.tooling import ROOT

ALLOWED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}  # fmt: skip


def executor_security_context() -> dict[str, Any]:
    values = yaml.safe_load((ROOT / "scripts" / "kind" / "argo-values.yaml").read_text())
    return dict(values["executor"]["securityContext"])


def pods(manifest: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, pod spec) of every pod the manifest would create."""
    kind, name, spec = manifest["kind"], manifest["metadata"]["name"], manifest.get("spec", {})
    if kind in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
        return [(f"{kind}/{name}", spec["template"]["spec"])]
    if kind == "CronJob":
        return [(f"{kind}/{name}", spec["jobTemplate"]["spec"]["template"]["spec"])]
    if kind == "Pod":
        return [(f"Pod/{name}", spec)]
    if kind in {"WorkflowTemplate", "Workflow", "CronWorkflow"}:
        workflow = spec.get("workflowSpec", spec)
        executor = {"name": "wait", "image": "argoexec", "securityContext": executor_security_context()}
        out = []
        for template in workflow.get("templates", []):
            if "container" not in template:
                continue
            out.append((f"{kind}/{name}/{template['name']}", {
                "securityContext": template.get("securityContext", workflow.get("securityContext", {})),
                "hostNetwork": workflow.get("hostNetwork", False),
                "initContainers": [{**executor, "name": "init"}],
                "containers": [{**template["container"], "name": "main"}, executor],
                "volumes": [*workflow.get("volumes", []), *template.get("volumes", [])],
            }))  # fmt: skip
        return out
    return []


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """Every rule of the restricted profile (Kubernetes v1.33, `latest`) that the pod spec breaks."""
    problems: list[str] = []
    security = pod.get("securityContext") or {}
    containers = [
        *pod.get("initContainers", []),
        *pod.get("containers", []),
        *pod.get("ephemeralContainers", []),
    ]
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            problems.append(f"{field} is true")
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= ALLOWED_VOLUMES:
            problems.append(f"volume {volume['name']} has type {sorted(kinds - ALLOWED_VOLUMES)}")
    for sysctl in security.get("sysctls", []):
        if sysctl["name"] not in SAFE_SYSCTLS:
            problems.append(f"sysctl {sysctl['name']}")
    pod_non_root = security.get("runAsNonRoot")
    pod_seccomp = (security.get("seccompProfile") or {}).get("type")
    if security.get("runAsUser") == 0:
        problems.append("pod runAsUser is 0")
    if pod_non_root is False:
        problems.append("pod runAsNonRoot is false")
    if pod_seccomp not in (None, "RuntimeDefault", "Localhost"):
        problems.append(f"pod seccompProfile {pod_seccomp}")
    for c in containers:
        name, context = c["name"], c.get("securityContext") or {}
        if context.get("privileged"):
            problems.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            problems.append(f"{name}: capabilities do not drop ALL")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: adds capabilities {capabilities['add']}")
        non_root = context.get("runAsNonRoot", pod_non_root)
        if non_root is not True:
            problems.append(f"{name}: runAsNonRoot is not true")
        if context.get("runAsUser") == 0:
            problems.append(f"{name}: runAsUser is 0")
        seccomp = (context.get("seccompProfile") or {}).get("type", pod_seccomp)
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: seccompProfile is {seccomp}")
        if any(port.get("hostPort") for port in c.get("ports", [])):
            problems.append(f"{name}: hostPort")
        if context.get("procMount", "Default") != "Default":
            problems.append(f"{name}: procMount")
    return problems
