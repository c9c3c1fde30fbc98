"""The real node (scripts/cluster/node/up.sh: containerd + kubelet + kube-controller-manager + Argo on
loopback) for tests marked ``cluster``: a session fixture that starts it unless it runs, and helpers.

Unlike the kwok control plane, containers really run here: tests assert what a container did (its logs,
its exit code, the files it could or could not write), with the images scripts/cluster/node/images.sh
builds (busybox-static and argoexec, FROM scratch). A missing tool, package or privilege fails the test with
what to install: never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tooling import TOOLS_DIR, _alive, leased_cluster, run, tool

NODE_DIR = Path(os.environ.get("SMELT_NODE_DIR") or Path.home() / ".cache" / "smelt" / "node")
RUN_DIR = NODE_DIR / "run"
BUSYBOX = "localhost/smelt/busybox:1"
_NODE_TOOLS = ("etcd", "kube-apiserver", "kube-scheduler", "kube-controller-manager", "kubelet", "kubectl",
               "workflow-controller-node", "argoexec", "pause")  # fmt: skip


def node_running() -> bool:
    pids = list((RUN_DIR / "pids").glob("*.pid"))
    return bool(pids) and all(_alive(p) for p in pids)


@pytest.fixture(scope="session")
def node_kubeconfig() -> Iterator[Path]:
    """A kubeconfig for the real-node cluster; started here (and stopped after) unless it already runs.

    Sessions may share it through leases, as with the kwok control plane (tests/tooling.py): the last one to
    leave stops a cluster a test session started; one that `SMELT_NODE=real make cluster-up` started stays.
    """
    for name in _NODE_TOOLS:
        tool(name)
    for name in ("containerd", "ctr", "runc", "busybox"):
        if not shutil.which(name):
            pytest.fail(f"{name} is missing: apt-get install containerd runc busybox-static (.ci/run does)")
    if os.geteuid() != 0:
        pytest.fail("the real node runs containerd and a kubelet: the cluster tests need root")
    env = {"SMELT_TOOLS_DIR": str(TOOLS_DIR), "SMELT_NODE_DIR": str(NODE_DIR), "SMELT_NODE": "real"}
    with leased_cluster(RUN_DIR, node_running, env, down_timeout=180):
        yield RUN_DIR / "kubeconfig"


@dataclass
class Node:
    kubeconfig: Path
    namespace: str

    def kubectl(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120) -> str:
        done = run([tool("kubectl"), "--kubeconfig", self.kubeconfig, "-n", self.namespace, *args],
                   input=input, check=check, timeout=timeout)  # fmt: skip
        return done.stdout

    def apply(self, *manifests: dict[str, Any]) -> None:
        self.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))

    def get(self, kind: str, name: str) -> dict[str, Any]:
        return dict(json.loads(self.kubectl("get", kind, name, "-o", "json")))

    def wait(self, what: str, condition: Any, timeout: float = 60) -> Any:
        """Poll ``condition()`` until it returns something truthy; fail with ``what`` and the namespace's
        pods and events if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            got = condition()
            if got:
                return got
            if time.monotonic() > deadline:
                pods = self.kubectl("get", "pods", "-o", "wide", check=False)
                events = self.kubectl("get", "events", "--sort-by=.lastTimestamp", check=False)
                pytest.fail(f"timed out after {timeout}s waiting for {what}\n{pods}\n{events[-3000:]}")
            time.sleep(0.5)

    def pod_phase(self, name: str) -> str:
        return self.kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}", check=False)


@pytest.fixture(scope="module")
def node(node_kubeconfig: Path) -> Iterator[Node]:
    """A fresh namespace on the real node, with its `default` ServiceAccount (made by the controller-manager)."""
    cluster = Node(node_kubeconfig, f"node-{uuid.uuid4().hex[:8]}")
    cluster.kubectl("create", "namespace", cluster.namespace)
    cluster.wait("the controller-manager's default ServiceAccount",
                 lambda: cluster.kubectl("get", "serviceaccount", "default", "-o", "name", check=False))  # fmt: skip
    yield cluster
    cluster.kubectl("delete", "namespace", cluster.namespace, "--wait=false", check=False)


def pod(name: str, script: str, **spec: Any) -> dict[str, Any]:
    """A hostNetwork busybox pod (no CNI on the node) running ``script`` once."""
    container = {"name": "main", "image": BUSYBOX, "imagePullPolicy": "IfNotPresent",
                 "command": ["/bin/sh", "-c", script], **spec.pop("container", {})}  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "hostNetwork": True,
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "containers": [container],
            **spec,
        },
    }
