"""The real node: containers really run (containerd + kubelet), and the controller-manager and the Argo
controller do on it what they do on kind. Each test asserts on what a container did.

Images: localhost/smelt/busybox:1 (Debian's busybox-static, FROM scratch) and the locally built argoexec,
both imported into containerd by scripts/cluster/node/images.sh. Every pod is hostNetwork (no CNI).
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.cluster.realnode import BUSYBOX, Node, node, node_kubeconfig, pod  # noqa: F401 - fixtures

pytestmark = pytest.mark.cluster

RESTRICTED = {
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "runAsNonRoot": True,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def test_a_pod_runs_on_the_node_and_its_logs_are_read(node: Node) -> None:  # noqa: F811
    node.apply(pod("hello", 'echo "hello from $(hostname) as $(id -u)"; exit 0'))
    node.wait("pod hello to succeed", lambda: node.pod_phase("hello") == "Succeeded")
    # the logs come from the kubelet's API (127.0.0.1:10250), reached by the API server with its client cert
    assert node.kubectl("logs", "hello").strip() == f"hello from {os.uname().nodename} as 0"
    # ...and nobody else: the kubelet API listens on loopback and answers only the cluster CA's certificates
    unverified = ssl.create_default_context()
    unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen("https://127.0.0.1:10250/pods", context=unverified, timeout=5)
    assert refused.value.code == 401
    status = node.get("pod", "hello")["status"]
    assert status["hostIP"] == "127.0.0.1"
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


def test_a_failing_container_reports_its_exit_code(node: Node) -> None:  # noqa: F811
    node.apply(pod("fails", "echo about to fail >&2; exit 3"))
    node.wait("pod fails to fail", lambda: node.pod_phase("fails") == "Failed")
    terminated = node.get("pod", "fails")["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 3
    assert "about to fail" in node.kubectl("logs", "fails")


def test_a_deployment_gets_a_running_pod_and_garbage_collection_removes_it(node: Node) -> None:  # noqa: F811
    labels = {"app": "sleeper"}
    node.apply({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "sleeper"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod("x", "exec sleep 3600")["spec"] | {"restartPolicy": "Always"}},
        },
    })  # fmt: skip
    node.kubectl("rollout", "status", "deployment/sleeper", "--timeout=90s", timeout=100)
    pods = json.loads(node.kubectl("get", "pods", "-l", "app=sleeper", "-o", "json"))["items"]
    assert [p["status"]["phase"] for p in pods] == ["Running"]
    assert pods[0]["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    assert pods[0]["spec"]["serviceAccountName"] == "default"
    node.kubectl("delete", "deployment", "sleeper", "--wait=false")
    node.wait("the garbage collector to remove the ReplicaSet and its pod",
              lambda: not node.kubectl("get", "replicasets,pods", "-l", "app=sleeper", "-o", "name").strip(),
              timeout=90)  # fmt: skip


def test_a_restricted_container_writes_only_to_its_volumes_and_tmp(node: Node, tmp_path: Path) -> None:  # noqa: F811
    # a static hostPath PersistentVolume, bound to a claim by the controller-manager's PV binder
    host_dir = tmp_path / "pv"
    host_dir.mkdir()
    os.chown(host_dir, 10001, 10001)
    pv_name = f"node-test-{uuid.uuid4().hex[:8]}"
    node.apply(
        {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv_name},
         "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "node-static",
                  "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": str(host_dir), "type": "Directory"},
                  "claimRef": {"namespace": node.namespace, "name": "data"}}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
         "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "node-static",
                  "resources": {"requests": {"storage": "1Gi"}}}},
    )  # fmt: skip
    try:
        node.wait(
            "the claim to bind",
            lambda: node.kubectl("get", "pvc", "data", "-o", "jsonpath={.status.phase}") == "Bound",
        )
        script = (
            "id -u; id -g; "
            "for p in /etc/x /x /bin/x /tmp/x /data/x /scratch/x; do "
            "  if touch $p 2>/dev/null; then echo write $p ok; else echo write $p denied; fi; "
            "done; echo from-the-pod > /data/proof"
        )
        node.apply(pod("restricted", script,
                       securityContext={"seccompProfile": {"type": "RuntimeDefault"}},
                       container={"securityContext": RESTRICTED,
                                  "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, {"name": "data", "mountPath": "/data"},
                                                   {"name": "scratch", "mountPath": "/scratch"}]},
                       volumes=[{"name": "tmp", "emptyDir": {}}, {"name": "scratch", "emptyDir": {}},
                                {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]))  # fmt: skip
        node.wait("pod restricted to succeed", lambda: node.pod_phase("restricted") == "Succeeded")
        assert node.kubectl("logs", "restricted").split("\n")[:-1] == [
            "10001", "10001",
            "write /etc/x denied", "write /x denied", "write /bin/x denied",
            "write /tmp/x ok", "write /data/x ok", "write /scratch/x ok",
        ]  # fmt: skip
        assert (host_dir / "proof").read_text() == "from-the-pod\n"
        assert (host_dir / "proof").stat().st_uid == 10001
        # what the kubelet asked of the runtime, as the container saw it: no capabilities, seccomp filter on
        node.apply(
            pod(
                "status",
                "grep -E '^(CapEff|Seccomp):' /proc/self/status",
                container={"securityContext": RESTRICTED},
            )
        )
        node.wait("pod status to succeed", lambda: node.pod_phase("status") == "Succeeded")
        lines = dict(line.split(":\t") for line in node.kubectl("logs", "status").strip().split("\n"))
        assert lines == {"CapEff": "0000000000000000", "Seccomp": "2"}
    finally:
        node.kubectl(
            "delete", "pod", "restricted", "status", "--ignore-not-found", "--wait=false", check=False
        )
        node.kubectl("delete", "pvc", "data", "--wait=false", check=False)
        node.kubectl("delete", "pv", pv_name, "--wait=false", check=False)


def test_argo_passes_an_output_parameter_through_a_real_workflow_task_result(node: Node) -> None:  # noqa: F811
    node.apply({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "argo-executor"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "argo-executor"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": node.namespace}],
    })  # fmt: skip
    step = {"image": BUSYBOX, "imagePullPolicy": "IfNotPresent", "command": ["/bin/sh", "-c"]}
    node.apply({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "two-steps"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {"name": "main", "steps": [
                    [{"name": "produce", "template": "produce"}],
                    [{"name": "consume", "template": "consume",
                      "arguments": {"parameters": [{"name": "count", "value": "{{steps.produce.outputs.parameters.count}}"}]}}],
                ]},
                {"name": "produce", "container": step | {"args": ["echo -n 42 > /tmp/count"]},
                 "outputs": {"parameters": [{"name": "count", "valueFrom": {"path": "/tmp/count"}}]}},
                {"name": "consume", "inputs": {"parameters": [{"name": "count"}]},
                 "container": step | {"args": ["echo got {{inputs.parameters.count}} as $(id -u)"]}},
            ],
        },
    })  # fmt: skip

    # The executor's `wait` container writes each step's outputs as a WorkflowTaskResult (no stand-in on this
    # node), reaching the API server in-cluster at the `kubernetes` Service's own address. The controller
    # deletes them once the run is done, so record them while it runs.
    seen: dict[str, list[str]] = {}

    def finished() -> str | None:
        listed = node.kubectl("get", "workflowtaskresults", "-l", "workflows.argoproj.io/workflow=two-steps",
                              "-o", "json")  # fmt: skip
        for result in json.loads(listed)["items"]:
            params = (result.get("outputs") or {}).get("parameters") or []
            seen[result["metadata"]["name"]] = [p["value"] for p in params]
        phase = node.kubectl("get", "workflow", "two-steps", "-o", "jsonpath={.status.phase}")
        return phase if phase in ("Succeeded", "Failed", "Error") else None

    phase = node.wait("workflow two-steps to finish", finished, timeout=120)
    workflow = node.get("workflow", "two-steps")
    assert phase == "Succeeded", json.dumps(workflow.get("status"), indent=1)[-3000:]
    nodes = {n["displayName"]: n for n in workflow["status"]["nodes"].values()}
    assert nodes["produce"]["outputs"]["parameters"][0]["value"] == "42"
    assert nodes["consume"]["inputs"]["parameters"][0]["value"] == "42"
    assert seen[nodes["produce"]["id"]] == ["42"]
    workflow_pods = json.loads(
        node.kubectl("get", "pods", "-l", "workflows.argoproj.io/workflow=two-steps", "-o", "json")
    )["items"]
    logs = [node.kubectl("logs", p["metadata"]["name"], "-c", "main") for p in workflow_pods]
    # the main container's own output, after argoexec's lines
    assert sum("got 42 as 0\n" in log for log in logs) == 1
