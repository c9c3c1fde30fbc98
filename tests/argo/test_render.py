"""The committed Argo YAML is exactly what the Hera templates render, and it passes the real v4 tools."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.manifests.support import CHART, helm_template
from tests.tooling import ROOT, SCHEMAS, VERSIONS, run, tool
from workflows.argo import render

RENDERED = ROOT / "charts" / "pipeline" / "files" / "argo"


def test_committed_files_are_what_the_templates_render(tmp_path: Path) -> None:
    render.render(tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_text() for p in tmp_path.rglob("*.yaml")}
    committed = {p.relative_to(RENDERED): p.read_text() for p in RENDERED.rglob("*.yaml")}
    assert sorted(fresh) == sorted(committed), "run `smelt argo render` and commit the result"
    stale = [str(name) for name, text in fresh.items() if committed[name] != text]
    assert not stale, f"out of date, run `smelt argo render`: {stale}"


def test_render_twice_changes_nothing(tmp_path: Path) -> None:
    first = {p: p.read_text() for p in render.render(tmp_path)}
    (tmp_path / "duckdb" / "workflowtemplate-removed.yaml").write_text("kind: gone\n")
    second = {p: p.read_text() for p in render.render(tmp_path)}
    assert first == second
    assert not (tmp_path / "duckdb" / "workflowtemplate-removed.yaml").exists()


@pytest.mark.tools
@pytest.mark.parametrize("warehouse", render.WAREHOUSES)
def test_argo_lint_offline_accepts_every_file_in_one_call(warehouse: str, tmp_path: Path) -> None:
    """The WorkflowTemplates as rendered; the CronWorkflows as the chart installs them (the rendered files have
    no schedule: the chart's values own it, and Argo refuses a CronWorkflow without one)."""
    files = sorted((RENDERED / warehouse).glob("workflowtemplate-*.yaml"))
    assert len(files) == 9
    # The chart's default warehouse is Snowflake; ci/local.yaml installs the DuckDB templates.
    values = None if warehouse == "snowflake" else CHART / "ci" / "local.yaml"
    crons = []
    for name in ("cronworkflow-smelt-daily.yaml", "cronworkflow-smelt-validate.yaml"):
        crons.append(tmp_path / name)
        crons[-1].write_text(helm_template(values, "--show-only", f"templates/{name}"))
    done = run([tool("argo"), "lint", "--offline", "-o", "simple", *files, *crons])
    assert "no linting errors" in done.stdout + done.stderr


@pytest.mark.tools
def test_argo_lint_offline_rejects_a_broken_reference(tmp_path: Path) -> None:
    """The lint can fail: a template reference that resolves to nothing is an error."""
    daily = yaml.safe_load((RENDERED / "duckdb" / "workflowtemplate-smelt-daily.yaml").read_text())
    day = next(t for t in daily["spec"]["templates"] if t["name"] == "day")
    day["dag"]["tasks"][2]["depends"] = "ingest-stocks && no-such-task"
    broken = tmp_path / "daily.yaml"
    broken.write_text(yaml.safe_dump(daily))
    done = run([tool("argo"), "lint", "--offline", "-o", "simple", broken], check=False)
    assert done.returncode != 0
    assert "no-such-task" in done.stdout + done.stderr


def _argo_validator(kind: str) -> jsonschema.Draft202012Validator:
    """Argo's v4 JSON schema, rooted at one kind's definition."""
    schema = json.loads((SCHEMAS / "argo" / f"schema-{VERSIONS['ARGO_VERSION']}.json").read_text())
    definitions = schema["definitions"]
    # Argo's schema types IntOrString as string only; the CRDs and the API server take integers too.
    definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["integer", "string"]}
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}", "definitions": definitions}
    )


@pytest.mark.parametrize("path", sorted(RENDERED.rglob("*.yaml")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_file_validates_against_the_argo_v4_json_schema(path: Path) -> None:
    manifest = yaml.safe_load(path.read_text())
    errors = list(_argo_validator(manifest["kind"]).iter_errors(manifest))
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]]


def test_the_json_schema_check_can_fail() -> None:
    cron = yaml.safe_load((RENDERED / "duckdb" / "cronworkflow-smelt-daily.yaml").read_text())
    del cron["spec"]["schedules"]
    cron["spec"]["concurrencyPolicy"] = 7
    errors = [e.message for e in _argo_validator("CronWorkflow").iter_errors(cron)]
    assert any("'schedules' is a required property" in m for m in errors), errors
    assert any("7 is not of type 'string'" in m for m in errors), errors
