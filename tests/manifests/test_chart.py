"""The pipeline chart through the real tools: helm lint, and helm template piped to kubeconform -strict
with the Kubernetes, Argo and External Secrets schemas kept in tests/schemas (offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    (cron,) = [
        d["spec"]
        for d in documents(rendered)
        if d["kind"] == "CronWorkflow" and d["metadata"]["name"] == "smelt-daily"
    ]
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


def _doc(rendered: str, kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in documents(rendered) if (d["kind"], d["metadata"]["name"]) == (kind, name)]
    return doc


def _flatfile_days_parallelism(rendered: str) -> int:
    backfill = _doc(rendered, "WorkflowTemplate", "smelt-backfill")
    (fan_out,) = [t for t in backfill["spec"]["templates"] if t["name"] == "flatfile-days"]
    return int(fan_out["parallelism"])


def _bars(rendered: str) -> str:
    backfill = _doc(rendered, "WorkflowTemplate", "smelt-backfill")
    (bars,) = [p for p in backfill["spec"]["arguments"]["parameters"] if p["name"] == "bars"]
    return str(bars["value"])


def test_flat_files_off_install_no_keys_and_backfill_over_the_api() -> None:
    rendered = helm_template(None)
    assert "POLYGON_FLATFILES_ENDPOINT_URL" not in _doc(rendered, "ConfigMap", "smelt-pipeline-env")["data"]
    assert not [d for d in documents(rendered) if d["metadata"]["name"] == "smelt-flatfiles"]
    assert _bars(rendered) == "rest"


def test_flat_files_on_bring_their_keys_through_external_secrets_and_set_the_backfill() -> None:
    """The keys reach the pods only from the ExternalSecret's Secret; the endpoint and bucket are settings."""
    rendered = helm_template(
        None, "--set", "flatfiles.enabled=true", "--set", "flatfiles.parallelism=5",
        "--set", "flatfiles.endpointUrl=https://files.massive.com", "--set", "flatfiles.bucket=flatfiles-eu",
        "--set", "externalSecrets.flatfiles.remoteKey=prod/flatfiles",
    )  # fmt: skip
    secret = _doc(rendered, "ExternalSecret", "smelt-flatfiles")
    assert secret["spec"]["target"]["name"] == "smelt-flatfiles"
    assert secret["spec"]["secretStoreRef"] == {"name": "smelt-secrets", "kind": "SecretStore"}
    assert secret["spec"]["data"] == [
        {"secretKey": "POLYGON_FLATFILES_ACCESS_KEY_ID",
         "remoteRef": {"key": "prod/flatfiles", "property": "access-key-id"}},
        {"secretKey": "POLYGON_FLATFILES_SECRET_ACCESS_KEY",
         "remoteRef": {"key": "prod/flatfiles", "property": "secret-access-key"}},
    ]  # fmt: skip
    env = _doc(rendered, "ConfigMap", "smelt-pipeline-env")["data"]
    assert env["POLYGON_FLATFILES_ENDPOINT_URL"] == "https://files.massive.com"
    assert env["POLYGON_FLATFILES_BUCKET"] == "flatfiles-eu"
    assert not {"POLYGON_FLATFILES_ACCESS_KEY_ID", "POLYGON_FLATFILES_SECRET_ACCESS_KEY"} & set(env)
    assert _bars(rendered) == "flatfiles"
    assert _flatfile_days_parallelism(rendered) == 5
    (step,) = _doc(rendered, "WorkflowTemplate", "smelt-ingest-flatfiles")["spec"]["templates"]
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
        for e in step["container"]["env"]
        if "valueFrom" in e
    }
    assert (
        refs["POLYGON_FLATFILES_ACCESS_KEY_ID"]
        == refs["POLYGON_FLATFILES_SECRET_ACCESS_KEY"]
        == "smelt-flatfiles"
    )


def test_the_fan_out_defaults_suit_a_cluster_and_the_two_core_profiles() -> None:
    assert _flatfile_days_parallelism(helm_template(None)) == 8
    for two_cores in ("duckdb-polygon.yaml", "local.yaml"):
        assert _flatfile_days_parallelism(helm_template(CHART / "ci" / two_cores)) == 2


def test_values_schema_refuses_a_key_in_the_flat_file_endpoint() -> None:
    for bad in ("flatfiles.endpointUrl=https://AKIAEXAMPLE:secret@files.polygon.io", "flatfiles.parallelism=0",
                "flatfiles.accessKey=x"):  # fmt: skip
        done = run([tool("helm"), "lint", CHART, "--set", bad], check=False)
        assert done.returncode != 0, bad
        assert "values don't meet the specifications of the schema" in done.stdout + done.stderr, bad


def test_the_weekly_validation_takes_its_schedule_from_its_values() -> None:
    rendered = helm_template(
        None, "--set", "validation.schedule.crons={0 4 * * 0}", "--set", "validation.schedule.timezone=Asia/Tokyo",
        "--set", "validation.schedule.failedJobsHistoryLimit=2",
    )  # fmt: skip
    validate = _doc(rendered, "CronWorkflow", "smelt-validate")["spec"]
    assert (validate["schedules"], validate["timezone"], validate["failedJobsHistoryLimit"]) == (
        ["0 4 * * 0"], "Asia/Tokyo", 2,
    )  # fmt: skip
    assert validate["successfulJobsHistoryLimit"] == 4 and validate["suspend"] is False
    assert validate["workflowSpec"]["workflowTemplateRef"] == {"name": "smelt-validate"}
    daily = _doc(rendered, "CronWorkflow", "smelt-daily")["spec"]
    assert (daily["schedules"], daily["timezone"]) == (["30 18 * * 1-5"], "America/New_York")  # untouched
    off = helm_template(None, "--set", "validation.enabled=false")
    assert not [
        d for d in documents(off) if (d["kind"], d["metadata"]["name"]) == ("CronWorkflow", "smelt-validate")
    ]
    assert _doc(off, "WorkflowTemplate", "smelt-validate")  # still there to run by hand


def test_scheduling_places_every_step_pod_and_a_step_on_its_own_nodes() -> None:
    """Workflow-level nodeSelector and tolerations reach every run (templateRef'd steps run under the calling
    workflow's spec, and every WorkflowTemplate carries the same); a step's own selector only its template."""
    rendered = helm_template(
        None, "--set", "scheduling.nodeSelector.pool=pipeline", "--set", "scheduling.tolerations[0].key=pool",
        "--set", "scheduling.tolerations[0].operator=Exists", "--set", "scheduling.stepNodeSelectors.transform.size=big",
    )  # fmt: skip
    templates = [d for d in documents(rendered) if d["kind"] == "WorkflowTemplate"]
    assert len(templates) == 9
    for doc in templates:
        assert doc["spec"]["nodeSelector"] == {"pool": "pipeline"}, doc["metadata"]["name"]
        assert doc["spec"]["tolerations"] == [{"key": "pool", "operator": "Exists"}]
    selected = {
        t["name"]
        for doc in templates
        for t in doc["spec"]["templates"]
        if "container" in t and "nodeSelector" in t
    }
    assert selected == {"transform"}
    plain = [d for d in documents(helm_template(None)) if d["kind"] == "WorkflowTemplate"]
    assert not [d for d in plain if {"nodeSelector", "tolerations"} & set(d["spec"])]
    done = run(
        [tool("helm"), "lint", CHART, "--set", "scheduling.stepNodeSelectors.no-such-step.a=b"], check=False
    )
    assert (
        done.returncode != 0
        and "values don't meet the specifications of the schema" in done.stdout + done.stderr
    )
