"""What the rendered templates promise, read from the manifests themselves."""

from __future__ import annotations

import json
from typing import Any

import pytest

from workflows.argo import pod, render, templates


def _by_name(warehouse: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"] + "/" + m["kind"]: m for m in render.manifests(warehouse)}  # type: ignore[arg-type]


def _containers(warehouse: str) -> list[dict[str, Any]]:
    return [
        t for m in render.manifests(warehouse) for t in m["spec"].get("templates", []) if "container" in t
    ]  # type: ignore[arg-type]


@pytest.mark.parametrize("warehouse", render.WAREHOUSES)
def test_every_container_runs_smelt_as_the_pipeline_service_account(warehouse: str) -> None:
    for template in _containers(warehouse):
        assert template["container"]["command"] == ["smelt"], template["name"]
        assert template["serviceAccountName"] == pod.SERVICE_ACCOUNT
        assert template["metadata"]["labels"][pod.STEP_LABEL] == template["name"]
        assert template["container"]["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("warehouse", render.WAREHOUSES)
def test_retries_only_exit_code_1_and_node_errors(warehouse: str) -> None:
    for template in _containers(warehouse):
        retry = template.get("retryStrategy")
        if template["name"] == "report":
            assert retry is None  # the exit handler reports once
            continue
        assert retry["retryPolicy"] == "Always"
        assert (
            retry["expression"] == "lastRetry.status == 'Error' || asInt(lastRetry.exitCode) in [1, 137, 143]"
        )
        assert set(retry["backoff"]) == {"duration", "factor", "cap", "maxDuration"}


def test_polygon_steps_share_the_semaphore_and_nothing_else_takes_it() -> None:
    callers = {t["name"] for t in _containers("duckdb") if "semaphores" in t.get("synchronization", {})}
    assert callers == {"ingest-stocks", "ingest-options-one"}
    for template in _containers("duckdb"):
        for ref in template.get("synchronization", {}).get("semaphores", []):
            assert ref["configMapKeyRef"] == {"name": "smelt-semaphores", "key": "polygon"}


def test_warehouse_mutex_and_shared_volume_only_for_duckdb() -> None:
    for warehouse, expected in (("duckdb", {"load", "transform", "publish"}), ("snowflake", set())):
        locked = {
            t["name"] for t in _containers(warehouse)
            if {"name": pod.WAREHOUSE_MUTEX} in t.get("synchronization", {}).get("mutexes", [])
        }  # fmt: skip
        assert locked == expected, warehouse
        claims = {v["persistentVolumeClaim"]["claimName"] for t in _containers(warehouse)
                  for v in t["volumes"] if "persistentVolumeClaim" in v}  # fmt: skip
        assert claims == ({pod.HOME_CLAIM} if warehouse == "duckdb" else set())


def test_snowflake_key_is_a_mounted_file_and_polygon_key_an_env_from_a_secret() -> None:
    for template in _containers("snowflake"):
        env = {e["name"]: e for e in template["container"]["env"]}
        assert env["SNOWFLAKE_PRIVATE_KEY_PATH"]["value"].startswith(pod.SNOWFLAKE_KEY_DIR)
        assert env["POLYGON_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == pod.POLYGON_SECRET
        assert (
            env["SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"]["valueFrom"]["secretKeyRef"]["name"]
            == pod.SNOWFLAKE_SECRET
        )
        mounts = {m["name"]: m for m in template["container"]["volumeMounts"]}
        assert mounts["snowflake-key"]["readOnly"] is True
        (key_volume,) = [v for v in template["volumes"] if v["name"] == "snowflake-key"]
        assert key_volume["secret"]["items"] == [
            {"key": "private-key", "path": "private-key"}
        ]  # only the key file


def test_daily_dag_order_and_the_holiday_skip() -> None:
    daily = _by_name("duckdb")["smelt-daily/WorkflowTemplate"]
    tasks = {
        t["name"]: t
        for t in next(t for t in daily["spec"]["templates"] if t["name"] == "daily")["dag"]["tasks"]
    }
    assert tasks["run-day"]["depends"] == "resolve-trade-date"
    assert tasks["run-day"]["when"] == "{{tasks.resolve-trade-date.outputs.parameters.trading}} == true"
    day = next(t for t in daily["spec"]["templates"] if t["name"] == "day")
    steps = {t["name"]: t for t in day["dag"]["tasks"]}
    assert "depends" not in steps["ingest-stocks"] and "depends" not in steps["ingest-options"]
    assert steps["load"]["depends"] == "ingest-stocks && ingest-options"
    assert steps["transform"]["depends"] == "load"
    assert steps["publish"]["depends"] == "transform"  # a failed publish is retried alone, not with the build
    assert steps["publish"]["templateRef"] == {"name": "smelt-publish", "template": "publish"}
    assert day["synchronization"]["mutexes"] == [{"name": "smelt-day-{{inputs.parameters.trade-date}}"}]
    assert daily["spec"]["onExit"] == "report"


def test_options_fan_out_over_a_json_list_with_bounded_parallelism() -> None:
    options = _by_name("duckdb")["smelt-ingest-options/WorkflowTemplate"]
    dag = next(t for t in options["spec"]["templates"] if t["name"] == "ingest-options")
    assert dag["parallelism"] == templates.OPTIONS_PARALLELISM
    (task,) = dag["dag"]["tasks"]
    assert task["withParam"] == "{{inputs.parameters.underlyings}}"
    argument = next(p for p in options["spec"]["arguments"]["parameters"] if p["name"] == "underlyings")
    assert "value" not in argument  # the chart's `universe` fills it at install


def test_cron_runs_the_daily_template_after_the_close_in_new_york() -> None:
    cron = _by_name("duckdb")["smelt-daily/CronWorkflow"]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid"
    assert cron["workflowSpec"]["workflowTemplateRef"] == {"name": "smelt-daily"}
    scheduled, universe = cron["workflowSpec"]["arguments"]["parameters"]
    assert scheduled == {"name": "scheduled-time", "value": "{{workflow.scheduledTime}}"}
    assert universe["name"] == "underlyings" and "value" not in universe  # the chart's `universe`


#: What the pipeline chart's values own (charts/pipeline/values.yaml `schedule` and `universe`).
DEPLOY_TIME_CRON_FIELDS = {
    "schedule", "timezone", "suspend", "startingDeadlineSeconds", "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
}  # fmt: skip


@pytest.mark.parametrize("warehouse", render.WAREHOUSES)
def test_the_render_leaves_deploy_time_settings_to_the_chart(warehouse: str) -> None:
    """Hera renders structure: no schedule, time zone, history limit or universe of its own, which the chart
    would overwrite (one owner: the chart's values)."""
    cron = _by_name(warehouse)["smelt-daily/CronWorkflow"]["spec"]
    assert not DEPLOY_TIME_CRON_FIELDS & set(cron) and cron["schedules"] == []
    for manifest in render.manifests(warehouse):  # type: ignore[arg-type]
        spec = manifest["spec"].get("workflowSpec", manifest["spec"])
        parameters = [*spec.get("arguments", {}).get("parameters", [])]
        parameters += [
            p for t in spec.get("templates", []) for p in t.get("inputs", {}).get("parameters", [])
        ]
        for parameter in parameters:
            if parameter["name"] == "underlyings":
                assert "value" not in parameter and "default" not in parameter, manifest["metadata"]["name"]


def test_backfill_runs_the_daily_day_template_per_trading_day() -> None:
    backfill = _by_name("duckdb")["smelt-backfill/WorkflowTemplate"]
    dag = next(t for t in backfill["spec"]["templates"] if t["name"] == "backfill")
    assert dag["parallelism"] == templates.BACKFILL_PARALLELISM
    run_day = next(t for t in dag["dag"]["tasks"] if t["name"] == "run-day")
    assert run_day["templateRef"] == {"name": "smelt-daily", "template": "day"}
    assert run_day["withParam"] == "{{tasks.trading-days.outputs.parameters.days}}"


def test_no_parameter_carries_a_secret() -> None:
    for warehouse in render.WAREHOUSES:
        for manifest in render.manifests(warehouse):
            text = json.dumps(manifest).lower()
            for params in _parameter_lists(manifest):
                for param in params:
                    name = param["name"].lower()
                    assert not any(word in name for word in ("key", "secret", "password", "token")), param
            assert 'polygon_api_key", "value"' not in text


def _parameter_lists(node: Any) -> list[list[dict[str, Any]]]:
    found: list[list[dict[str, Any]]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "parameters" and isinstance(value, list):
                found.append(value)
            found.extend(_parameter_lists(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_parameter_lists(item))
    return found
