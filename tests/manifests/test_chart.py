"""The pipeline chart through the real tools: helm lint, and helm template piped to kubeconform -strict
with the Kubernetes, Argo and External Secrets schemas kept in tests/schemas (offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.manifests.support import CHART, SCENARIOS, documents, helm_template, scenario_id
from tests.tooling import kubeconform, run, tool

pytestmark = pytest.mark.tools  # helm, kubeconform: runs after the suites that need no build


@pytest.mark.parametrize("values", SCENARIOS, ids=scenario_id)
def test_helm_lint(values: Path | None) -> None:
    args = [tool("helm"), "lint", CHART, "--strict", *(["--values", str(values)] if values else [])]
    done = run(args)
    assert "0 chart(s) failed" in done.stdout


@pytest.mark.parametrize("values", SCENARIOS, ids=scenario_id)
def test_rendered_chart_passes_kubeconform_strict(values: Path | None) -> None:
    rendered = helm_template(values)
    done = kubeconform(rendered)
    kinds = {d["kind"] for d in documents(rendered)}
    assert {"WorkflowTemplate", "CronWorkflow", "Role", "ConfigMap", "SecretStore", "ExternalSecret"} <= kinds
    assert f"Valid: {len(documents(rendered))}, Invalid: 0, Errors: 0, Skipped: 0" in done.stdout


def test_kubeconform_strict_rejects_an_unknown_field() -> None:
    """The check can fail: a field the API does not have (a typo) is an error, not silently dropped."""
    rendered = helm_template(None).replace(
        "concurrencyPolicy: Forbid", "concurrencyPolicy: Forbid\n  concurency: 1", 1
    )
    done = run([tool("kubeconform"), "-v"], check=False)  # the tool itself runs
    assert done.returncode == 0
    with pytest.raises(pytest.fail.Exception, match="concurency"):
        kubeconform(rendered)


def test_values_schema_rejects_an_unknown_key_and_a_bad_warehouse() -> None:
    for bad in ("bogus=1", "warehouse=postgres", "universe[0]=spy"):
        done = run([tool("helm"), "lint", CHART, "--set", bad], check=False)
        assert done.returncode != 0, bad
        assert "values don't meet the specifications of the schema" in done.stdout + done.stderr, bad


def test_every_value_is_documented() -> None:
    """argo-helm's rule: every value has a `# --` comment right above it (or above the value it belongs to)."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    documented_at: list[int] = []  # indentation of the documented values enclosing the current line
    undocumented = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "-")) or ":" not in stripped:
            continue
        indent = len(line) - len(line.lstrip())
        documented_at = [level for level in documented_at if level < indent]
        above = index - 1
        while (
            above >= 0
            and lines[above].strip().startswith("#")
            and not lines[above].strip().startswith("# --")
        ):
            above -= 1
        key, _, value = stripped.partition(":")
        if above >= 0 and lines[above].strip().startswith("# --"):
            documented_at.append(indent)
        elif value.strip() and not documented_at:
            undocumented.append(key)
    assert not undocumented


def test_the_chart_alone_sets_the_deploy_time_settings() -> None:
    """The schedule, its time zone, the history kept and the universe are the chart's values (Hera renders
    structure only): a release's values reach the CronWorkflow and every `underlyings` argument."""
    rendered = helm_template(
        None, "--set", "schedule.crons={0 7 * * 1}", "--set", "schedule.timezone=Europe/Zurich",
        "--set", "schedule.successfulJobsHistoryLimit=3", "--set", "schedule.failedJobsHistoryLimit=4",
        "--set", "schedule.startingDeadlineSeconds=60", "--set", "universe={SPY,QQQ}",
    )  # fmt: skip
    by_kind = [
        (d["kind"], d["spec"])
        for d in documents(rendered)
        if d["kind"] in {"CronWorkflow", "WorkflowTemplate"}
    ]
    (cron,) = [spec for kind, spec in by_kind if kind == "CronWorkflow"]
    assert (cron["schedules"], cron["timezone"]) == (["0 7 * * 1"], "Europe/Zurich")
    assert (cron["successfulJobsHistoryLimit"], cron["failedJobsHistoryLimit"]) == (3, 4)
    assert cron["startingDeadlineSeconds"] == 60
    universes = [
        p.get("value")
        for _, spec in by_kind
        for p in spec.get("workflowSpec", spec).get("arguments", {}).get("parameters", [])
        if p["name"] == "underlyings"
    ]
    assert len(universes) == 4 and set(universes) == {'["SPY","QQQ"]'}  # daily, options, backfill, the cron
