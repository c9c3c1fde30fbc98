"""`smelt doctor` on the installed chart: it passes, and names what it breaks on when an object goes.

External Secrets' controller does not run on this control plane, so the test does what it would do: it
writes the target Secrets and marks the ExternalSecrets Ready. Everything doctor reads comes from the
real API server, and its permission checks are the API server's own answers (SelfSubjectAccessReview as
the workflow's ServiceAccount, against the chart's real Role).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cluster.support import Cluster
from workflows.cli import app

pytestmark = pytest.mark.cluster


def _play_external_secrets(cluster: Cluster) -> None:
    listed = json.loads(cluster.kubectl("get", "externalsecrets", "-o", "json"))["items"]
    assert {e["metadata"]["name"] for e in listed} == {"smelt-polygon", "smelt-s3"}
    for item in listed:
        name = item["metadata"]["name"]
        cluster.kubectl("create", "secret", "generic", name, "--from-literal=placeholder=not-a-secret")
        ready = {"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "SecretSynced",
                                            "message": "set by the test", "lastTransitionTime": "2026-11-24T00:00:00Z"}]}}  # fmt: skip
        cluster.kubectl(
            "patch",
            "externalsecret",
            name,
            "--subresource",
            "status",
            "--type",
            "merge",
            "-p",
            json.dumps(ready),
        )


def _doctor(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    done = CliRunner().invoke(app, ["doctor", "--namespace", cluster.namespace])
    return done.exit_code, done.output


def test_doctor_passes_then_names_each_missing_piece(
    pipeline: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = _doctor(pipeline, monkeypatch)
    assert code == 1 and "MISS ExternalSecret smelt-polygon: not Ready" in output  # nothing synced them yet

    _play_external_secrets(pipeline)
    code, output = _doctor(pipeline, monkeypatch)
    assert code == 0, output
    for line in ("ok   CRD workflowtemplates.argoproj.io", "ok   ConfigMap smelt-semaphores: polygon=2",
                 "ok   smelt-workflow may create workflowtaskresults", "ok   smelt-workflow may not get secrets",
                 "ok   WorkflowTemplate smelt-daily: version", "ok   PersistentVolumeClaim smelt-home"):  # fmt: skip
        assert line in output, output
    assert "not-a-secret" not in output

    pipeline.kubectl("delete", "configmap", "smelt-semaphores")
    pipeline.kubectl("delete", "rolebinding", "smelt-workflow")
    pipeline.kubectl("delete", "workflowtemplate", "smelt-transform")
    code, output = _doctor(pipeline, monkeypatch)
    assert code == 1
    assert "MISS ConfigMap smelt-semaphores: missing" in output
    assert "MISS smelt-workflow may create workflowtaskresults: denied" in output
    assert "MISS WorkflowTemplate smelt-transform: not installed" in output
    assert output.count("fix: helm upgrade --install smelt charts/pipeline") >= 3


def test_doctor_without_a_cluster_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    done = CliRunner().invoke(app, ["doctor"])
    assert done.exit_code == 2
