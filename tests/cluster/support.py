"""Driving the local control plane from tests: the pipeline chart installed with helm, runs submitted and
read back with the real argo CLI and kubectl.

What is real: the API server (it validates every object the chart installs), the Argo controller (DAG
order, retries, skips, semaphores, mutexes, cron, argo retry), the scheduler. What is not: no container
runs. kwok moves pods through their phases; a test states, through pod annotations, which step fails with
which exit code (kwok.smelt.dev/*) and which outputs a step reports (kwok.smelt.dev/outputs, read by
scripts/cluster/taskresults.py). Tests here therefore assert what the controller did, never what a step's
container would have computed: that is `smelt run`'s and the step tests' job.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.tooling import ROOT, run, tool
from workflows.argo.incluster import InCluster

CHART = ROOT / "charts" / "pipeline"
DAY = "2026-11-24"
#: What the trading-day step reports unless a test says otherwise.
DEFAULT_OUTPUTS = {
    "resolve-trade-date": {"trade-date": DAY, "trading": "true"},
    "trading-days": {"days": json.dumps(["2026-11-23", "2026-11-24", "2026-11-25"])},
    "report": {"rows": "0"},
}


@dataclass
class Cluster:
    kubeconfig: Path
    namespace: str

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        done = run([tool("kubectl"), "--kubeconfig", self.kubeconfig, "-n", self.namespace, *args],
                   input=input, check=check)  # fmt: skip
        return done.stdout

    def argo(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        done = run([tool("argo"), "--kubeconfig", str(self.kubeconfig), "-n", self.namespace, *args],
                   timeout=timeout, check=check)  # fmt: skip
        return done.stdout

    def helm(self, *args: str | Path) -> str:
        return run(
            [tool("helm"), "--kubeconfig", self.kubeconfig, "-n", self.namespace, *args], timeout=300
        ).stdout

    def get(self, kind: str, name: str) -> dict[str, Any]:
        return dict(json.loads(self.kubectl("get", kind, name, "-o", "json")))

    def apply(self, manifest: dict[str, Any]) -> None:
        self.kubectl("apply", "-f", "-", input=yaml.safe_dump(manifest))

    def in_cluster_as(self, account: str, folder: Path) -> InCluster:
        """What a pod running as ``account`` sees of the API (workflows/argo/incluster.py): the server and
        CA of this kubeconfig, and a token the API server issues for the account (TokenRequest)."""
        config = yaml.safe_load(self.kubeconfig.read_text())["clusters"][0]["cluster"]
        (folder / account).mkdir(parents=True, exist_ok=True)
        ca, token = folder / account / "ca.crt", folder / account / "token"
        ca.write_bytes(base64.b64decode(config["certificate-authority-data"]))
        token.write_text(self.kubectl("create", "token", account, "--duration", "10m").strip())
        return InCluster(config["server"], token, ca, self.namespace)

    def install_pipeline(self, *values: str) -> None:
        """helm install the pipeline chart (local profile) and what a cluster would add around it."""
        sets = [arg for value in values for arg in ("--set", value)]
        # --no-hooks: the local profile's bucket Job would wait for a Job controller this plane lacks.
        self.helm("install", "smelt", CHART, "--values", CHART / "ci" / "local.yaml", "--no-hooks", *sets)
        self.bind_volume("smelt-home")
        self.state_outputs(DEFAULT_OUTPUTS)

    def bind_volume(self, claim: str) -> None:
        """Stand-in for the PersistentVolume controller (kube-controller-manager does not run here): a
        volume for the claim, bound the way the controller binds it, so the scheduler places the pods."""
        volume = f"{self.namespace}-{claim}"
        self.apply({
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": volume},
            "spec": {"capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"],
                     "hostPath": {"path": f"/nonexistent/{volume}"},
                     "claimRef": {"namespace": self.namespace, "name": claim}},
        })  # fmt: skip
        patch = {
            "spec": {"volumeName": volume},
            "metadata": {"annotations": {"pv.kubernetes.io/bind-completed": "yes"}},
        }
        self.kubectl("patch", "pvc", claim, "--type", "merge", "-p", json.dumps(patch))
        bound = {
            "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "2Gi"}}
        }
        self.kubectl(
            "patch", "pvc", claim, "--subresource", "status", "--type", "merge", "-p", json.dumps(bound)
        )

    def state_outputs(self, outputs: dict[str, dict[str, str]]) -> None:
        """What each step "reports" in this namespace (ConfigMap kwok-outputs, read by taskresults.py)."""
        data = {step: json.dumps(values) for step, values in outputs.items()}
        self.apply(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kwok-outputs"}, "data": data}
        )

    def submit(self, template: str, parameters: dict[str, str] | None = None,
               annotations: dict[str, str] | None = None, extra_arguments: dict[str, str] | None = None) -> str:  # fmt: skip
        """Create a Workflow from a WorkflowTemplate, as `argo submit --from` does, plus pod annotations."""
        name = f"{template}-{uuid.uuid4().hex[:6]}"
        params = {**(parameters or {}), **(extra_arguments or {})}
        workflow = {
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": name},
            "spec": {
                "workflowTemplateRef": {"name": template},
                "arguments": {"parameters": [{"name": k, "value": v} for k, v in params.items()]},
                **({"podMetadata": {"annotations": annotations}} if annotations else {}),
            },
        }  # fmt: skip
        self.kubectl("create", "-f", "-", input=yaml.safe_dump(workflow))
        return name

    def wait(self, name: str, timeout: float = 240) -> dict[str, Any]:
        """The workflow once it has finished (the controller's verdict), or a failure naming where it stands."""
        deadline = time.monotonic() + timeout
        while True:
            workflow = self.get("workflow", name)
            if workflow.get("status", {}).get("phase") in ("Succeeded", "Failed", "Error"):
                return workflow
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} still {workflow.get('status', {}).get('phase')} after {timeout}s:\n"
                                     + self.argo("get", name, check=False))  # fmt: skip
            time.sleep(1)


def pod_nodes(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in workflow["status"]["nodes"].values() if n["type"] == "Pod"]


def nodes_named(workflow: dict[str, Any], display: str) -> list[dict[str, Any]]:
    """Pod nodes whose display name is ``display`` or one of its retries ``display(N)``."""
    return [
        n
        for n in pod_nodes(workflow)
        if n["displayName"] == display or n["displayName"].startswith(f"{display}(")
    ]


def when(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def peak_overlap(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """Most intervals [start, end) running at one instant."""
    events = sorted(
        [(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1])
    )
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak
