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
    """Every step as `smelt-workflow`, but the exit handler as `smelt-report`, the one that may read the
    run's Workflow (its step times)."""
    for template in _containers(warehouse):
        assert template["container"]["command"] == ["smelt"], template["name"]
        expected = pod.REPORT_SERVICE_ACCOUNT if template["name"] == "report" else pod.SERVICE_ACCOUNT
        assert template["serviceAccountName"] == expected, template["name"]
        assert template["metadata"]["labels"][pod.STEP_LABEL] == template["name"]
        assert template["container"]["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("warehouse", render.WAREHOUSES)
def test_retries_only_exit_code_1_and_node_errors(warehouse: str) -> None:
    for template in _containers(warehouse):
        retry = template.get("retryStrategy")  # the exit handler too: its report overwrites its own object
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
    for warehouse, expected in (
        ("duckdb", {"load", "transform", "publish", "validate"}),
        ("snowflake", set()),
    ):
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
    for name in ("smelt-daily", "smelt-validate"):
        cron = _by_name(warehouse)[f"{name}/CronWorkflow"]["spec"]
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


def _template(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in manifest["spec"]["templates"] if t["name"] == name)


def _tasks(dag: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in dag["dag"]["tasks"]}


@pytest.mark.parametrize("warehouse", render.WAREHOUSES)
def test_backfill_takes_one_path_by_its_bars_parameter(warehouse: str) -> None:
    """REST (the default where no chart says otherwise): a whole `smelt-daily` day per trading day. Flat
    files: the fan-out. Each branch runs only when `bars` names it, so a run never takes both."""
    backfill = _by_name(warehouse)["smelt-backfill/WorkflowTemplate"]
    (bars,) = [p for p in backfill["spec"]["arguments"]["parameters"] if p["name"] == "bars"]
    assert (bars["value"], bars["enum"]) == ("rest", ["rest", "flatfiles"])
    dag = _template(backfill, "backfill")
    assert dag["parallelism"] == templates.BACKFILL_PARALLELISM
    tasks = _tasks(dag)
    assert set(tasks) == {"trading-days", "run-day", "flatfiles"}
    run_day, files = tasks["run-day"], tasks["flatfiles"]
    assert run_day["templateRef"] == {"name": "smelt-daily", "template": "day"}
    assert run_day["withParam"] == "{{tasks.trading-days.outputs.parameters.days}}"
    assert run_day["when"] == "{{workflow.parameters.bars}} == rest"
    assert files["when"] == "{{workflow.parameters.bars}} == flatfiles"
    assert files["template"] == templates.FLATFILE_DAYS and "withParam" not in files  # fans out inside
    assert files["arguments"]["parameters"] == [
        {"name": "days", "value": "{{tasks.trading-days.outputs.parameters.days}}"}
    ]
    assert run_day["depends"] == files["depends"] == "trading-days"


@pytest.mark.parametrize("warehouse", render.WAREHOUSES)
def test_flat_file_backfill_fans_out_one_day_each_then_transforms_and_publishes_once(warehouse: str) -> None:
    backfill = _by_name(warehouse)["smelt-backfill/WorkflowTemplate"]
    fan_out = _template(backfill, templates.FLATFILE_DAYS)
    assert fan_out["parallelism"] == templates.FLATFILE_PARALLELISM == 2  # two cores, where no chart sets it
    tasks = _tasks(fan_out)
    assert set(tasks) == {"day", "transform", "publish"}
    assert tasks["day"]["withParam"] == "{{inputs.parameters.days}}"
    assert tasks["day"]["template"] == "flatfile-day"
    assert tasks["day"]["arguments"]["parameters"] == [{"name": "trade-date", "value": "{{item}}"}]
    # One transform after every day (a fanned-out task's name in `depends` waits for all its children).
    assert "withParam" not in tasks["transform"] and tasks["transform"]["depends"] == "day"
    assert tasks["transform"]["templateRef"] == {"name": "smelt-transform", "template": "transform"}
    assert tasks["publish"]["depends"] == "transform"
    assert tasks["publish"]["templateRef"] == {"name": "smelt-publish", "template": "publish"}

    day = _template(backfill, "flatfile-day")
    steps = _tasks(day)
    assert set(steps) == {"ingest-flatfiles", "ingest-stocks", "load"}  # no transform per day
    assert "depends" not in steps["ingest-flatfiles"] and "depends" not in steps["ingest-stocks"]
    assert steps["load"]["depends"] == "ingest-flatfiles && ingest-stocks"
    assert steps["ingest-flatfiles"]["templateRef"] == {
        "name": "smelt-ingest-flatfiles",
        "template": "ingest-flatfiles",
    }
    # The same day mutex as a `smelt-daily` day: a backfill and a daily run of one day never overlap.
    assert (
        day["synchronization"]
        == _template(_by_name(warehouse)["smelt-daily/WorkflowTemplate"], "day")["synchronization"]
    )


@pytest.mark.parametrize("warehouse", render.WAREHOUSES)
def test_the_flat_file_step_runs_the_documented_command_and_alone_sees_their_keys(warehouse: str) -> None:
    (step,) = _by_name(warehouse)["smelt-ingest-flatfiles/WorkflowTemplate"]["spec"]["templates"]
    day = "{{inputs.parameters.trade-date}}"
    assert step["container"]["args"] == [
        "ingest", "flatfiles", "--start", day, "--end", day, "--run-id", "{{workflow.name}}",
    ]  # fmt: skip
    assert "synchronization" not in step  # not the REST API's semaphore, nor a warehouse writer
    assert (
        step["retryStrategy"]
        == _template(_by_name(warehouse)["smelt-load/WorkflowTemplate"], "load")["retryStrategy"]
    )
    for template in _containers(warehouse):
        keys = {
            e["name"]: e["valueFrom"]["secretKeyRef"]
            for e in template["container"]["env"]
            if e["name"].startswith("POLYGON_FLATFILES_")
        }
        if template["name"] != "ingest-flatfiles":
            assert not keys, template["name"]
            continue
        assert keys == {
            key: {"name": pod.FLATFILES_SECRET, "key": key, "optional": True} for key in pod.FLATFILES_KEYS
        }


@pytest.mark.parametrize("warehouse", render.WAREHOUSES)
def test_validation_runs_the_whole_table_tests_under_the_transform_mutex(warehouse: str) -> None:
    """`smelt-validate` and every transform share one mutex on both warehouses: never two dbt runs at once."""
    by_name = _by_name(warehouse)
    validate = by_name["smelt-validate/WorkflowTemplate"]
    (step,) = validate["spec"]["templates"]
    assert step["container"]["args"] == ["transform", "--full-validation", "--run-id", "{{workflow.name}}"]
    assert validate["spec"]["entrypoint"] == "validate"
    assert (
        validate["spec"]["synchronization"]
        == by_name["smelt-daily/WorkflowTemplate"]["spec"]["synchronization"]
    )
    transform = _template(by_name["smelt-transform/WorkflowTemplate"], "transform")
    for template in (step, transform):
        assert {"name": pod.TRANSFORM_MUTEX} in template["synchronization"]["mutexes"], template["name"]
    holders = {
        t["name"] for t in _containers(warehouse)
        if {"name": pod.TRANSFORM_MUTEX} in t.get("synchronization", {}).get("mutexes", [])
    }  # fmt: skip
    assert holders == {"transform", "validate"}
    assert step["retryStrategy"] == transform["retryStrategy"]


def test_validation_cron_runs_the_template_and_leaves_its_schedule_to_the_chart() -> None:
    cron = _by_name("duckdb")["smelt-validate/CronWorkflow"]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid"
    assert cron["workflowSpec"] == {"workflowTemplateRef": {"name": "smelt-validate"}}
    assert not DEPLOY_TIME_CRON_FIELDS & set(cron) and cron["schedules"] == []


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
