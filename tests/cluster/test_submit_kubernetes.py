"""`smelt argo install-templates` and `smelt argo submit` straight to the Kubernetes API (no Argo Server): the
templates installed in a fresh namespace, and the run submitted is picked up and finished by the real
controller."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cluster.support import DEFAULT_OUTPUTS, Cluster
from workflows.cli import app

pytestmark = pytest.mark.cluster


def test_install_templates_then_submit_a_run(kubeconfig: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = Cluster(kubeconfig, f"smelt-submit-{uuid.uuid4().hex[:6]}")
    cluster.kubectl("create", "namespace", cluster.namespace)
    # What the chart provides besides the templates; install-templates installs those.
    cluster.install_pipeline()
    cluster.kubectl("delete", "workflowtemplates,cronworkflows", "--all")
    cluster.state_outputs(DEFAULT_OUTPUTS)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.delenv("ARGO_SERVER", raising=False)
    monkeypatch.setenv("SMELT_WAREHOUSE", "duckdb")

    refused = CliRunner().invoke(app, ["argo", "submit", "--namespace", cluster.namespace])
    assert refused.exit_code == 2  # nothing to run yet: the templates are gone
    installed = CliRunner().invoke(app, ["argo", "install-templates", "--namespace", cluster.namespace,
                                         "--image", "smelt-pipeline:test"])  # fmt: skip
    assert installed.exit_code == 0, installed.output
    done = CliRunner().invoke(app, ["argo", "submit", "--date", "2026-11-24", "--underlyings", "SPY,QQQ",
                                    "--namespace", cluster.namespace])  # fmt: skip
    assert done.exit_code == 0, done.output
    name = done.output.split("submitted ", 1)[1].split()[0]
    assert f"argo watch -n {cluster.namespace} {name}" in done.output
    assert cluster.wait(name)["status"]["phase"] == "Succeeded", cluster.argo("get", name)
    template = cluster.get("workflowtemplate", "smelt-load")
    assert template["spec"]["templates"][0]["container"]["image"] == "smelt-pipeline:test"

    updated = CliRunner().invoke(app, ["argo", "install-templates", "--namespace", cluster.namespace,
                                       "--image", "smelt-pipeline:test2"])  # fmt: skip
    assert updated.exit_code == 0, updated.output  # the templates exist now: updated in place
    template = cluster.get("workflowtemplate", "smelt-load")
    assert template["spec"]["templates"][0]["container"]["image"] == "smelt-pipeline:test2"
    assert template["metadata"]["generation"] == 2
    again = CliRunner().invoke(app, ["argo", "submit", "--namespace", cluster.namespace])
    assert again.exit_code == 0, again.output
    second = again.output.split("submitted ", 1)[1].split()[0]
    assert cluster.wait(second)["status"]["phase"] == "Succeeded"
