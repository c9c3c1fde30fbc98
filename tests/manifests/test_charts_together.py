"""Both charts, twice each, in one namespace: no two objects share a kind and name, every name the pipeline's
objects refer to is the release's own, and the whole passes kubeconform -strict (helm and kubeconform from
the tool cache). Also: the security-context helpers the two charts share are one text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.manifests.support import CHART, SCENARIOS, documents, scenario_id
from tests.tooling import ROOT, kubeconform, run, tool

pytestmark = pytest.mark.tools  # helm, kubeconform: runs after the suites that need no build

DASHBOARD = ROOT / "charts" / "dashboard"
#: Every dashboard scenario renders (the defaults need a Snowflake account, which only a scenario gives).
DASHBOARD_SCENARIOS = sorted((DASHBOARD / "ci").glob("*.yaml"))
NAMESPACE = "smelt"
#: (pipeline release, dashboard release, the pipeline's object prefix): the documented release, and another.
RELEASES = [("smelt", "dashboard", "smelt"), ("research", "research-dashboard", "research-smelt")]


def render(chart: Path, release: str, values: Path | None, *extra: str) -> str:
    args: list[str | Path] = [tool("helm"), "template", release, chart, "--namespace", NAMESPACE, *extra]
    return run([*args, *(["--values", values] if values else [])]).stdout


def references(node: Any) -> Iterator[str]:
    """Names one object gives of others in its namespace: templates, accounts, ConfigMaps, Secrets, claims,
    and the mutexes and semaphores that serialise its runs."""
    if isinstance(node, list):
        for item in node:
            yield from references(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in ("templateRef", "workflowTemplateRef", "configMapRef", "configMapKeyRef", "secretRef",
                   "secretKeyRef", "serviceAccountRef", "secretStoreRef", "claimRef"):  # fmt: skip
            yield value["name"]
        elif key == "mutexes":
            yield from (mutex["name"] for mutex in value)
        elif key in ("serviceAccountName", "claimName", "secretName", "volumeName"):
            yield value
        elif key == "subjects":
            yield from (subject["name"] for subject in value)
        elif key == "roleRef":
            yield value["name"]
        yield from references(value)


@pytest.mark.parametrize("values", SCENARIOS, ids=scenario_id)
def test_two_releases_of_both_charts_share_a_namespace(values: Path | None) -> None:
    dashboard_values = DASHBOARD_SCENARIOS[SCENARIOS.index(values) % len(DASHBOARD_SCENARIOS)]
    rendered: list[str] = []
    for pipeline, dashboard, prefix in RELEASES:
        ours = render(
            CHART, pipeline, values, "--set", "duckdb.hostPath=/srv/smelt"
        )  # its cluster-wide volume too
        rendered += [ours, render(DASHBOARD, dashboard, dashboard_values)]
        for doc in documents(ours):
            where = f"{doc['kind']}/{doc['metadata']['name']}"
            assert doc["metadata"]["name"].startswith(f"{prefix}-"), where
            foreign = [name for name in references(doc) if not name.startswith(f"{prefix}-")]
            assert not foreign, f"{where} refers to another release's objects: {foreign}"
        env = next(d for d in documents(ours) if d["kind"] == "ConfigMap" and "SMELT_LAKE_URL" in d["data"])
        for url in (env["data"].get("SMELT_SIM_URL"), env["data"].get("SMELT_S3_ENDPOINT_URL")):
            if url and "127.0.0.1" not in url:
                assert url.startswith(f"http://{prefix}-"), url
    names = Counter((d["kind"], d["metadata"]["name"]) for text in rendered for d in documents(text))
    assert not [key for key, count in names.items() if count > 1]
    # PersistentVolume has no schema under tests/schemas (only the hostPath profile of the real node has one,
    # and that node's test installs it): the rest of the four releases goes through kubeconform.
    checked = [
        yaml.safe_dump(d) for text in rendered for d in documents(text) if d["kind"] != "PersistentVolume"
    ]
    done = kubeconform("---\n".join(checked))
    assert f"Valid: {len(checked)}, Invalid: 0, Errors: 0, Skipped: 0" in done.stdout


def test_the_release_named_smelt_keeps_the_documented_names() -> None:
    """`smelt argo submit`, the docs and the walk-through name these objects; release `smelt` keeps them."""
    docs = documents(render(CHART, "smelt", CHART / "ci" / "local.yaml"))
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {("WorkflowTemplate", "smelt-daily"), ("CronWorkflow", "smelt-daily"), ("ServiceAccount", "smelt-workflow"),
            ("PersistentVolumeClaim", "smelt-home"), ("ConfigMap", "smelt-semaphores"),
            ("ConfigMap", "smelt-pipeline-env"), ("Service", "smelt-simulator")} <= names  # fmt: skip


def test_the_name_check_catches_a_hard_coded_reference() -> None:
    """The check can fail: a step that names the documented release's ServiceAccount is foreign to another."""
    [doc] = [
        d
        for d in documents(render(CHART, "research", None))
        if d["metadata"]["name"] == "research-smelt-load"
    ]
    doc["spec"]["templates"][0]["serviceAccountName"] = "smelt-workflow"
    assert "smelt-workflow" in [name for name in references(doc) if not name.startswith("research-smelt-")]


def test_both_charts_share_one_security_context_helper() -> None:
    """The restricted Pod Security Standard is one text: the same _security.tpl in both charts."""
    pipeline = (CHART / "templates" / "_security.tpl").read_text()
    assert pipeline == (DASHBOARD / "templates" / "_security.tpl").read_text()
    assert (
        'define "smelt.podSecurityContext"' in pipeline
        and 'define "smelt.containerSecurityContext"' in pipeline
    )
