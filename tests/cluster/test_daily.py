"""smelt-daily, smelt-backfill and the CronWorkflow under the real Argo controller."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.cluster.support import DAY, DEFAULT_OUTPUTS, Cluster, nodes_named, peak_overlap, pod_nodes, when

pytestmark = pytest.mark.cluster
UNDERLYINGS = ["SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA", "AMZN"]


def test_daily_runs_ingests_then_load_then_transform_fanned_out_per_underlying(pipeline: Cluster) -> None:
    name = pipeline.submit("smelt-daily", {"underlyings": json.dumps(UNDERLYINGS)})
    workflow = pipeline.wait(name)
    assert workflow["status"]["phase"] == "Succeeded", pipeline.argo("get", name)

    options = [n for n in pod_nodes(workflow) if n["displayName"].startswith("underlying(")]
    assert sorted(n["inputs"]["parameters"][1]["value"] for n in options) == sorted(UNDERLYINGS)
    (stocks,) = nodes_named(workflow, "ingest-stocks")
    (load,) = nodes_named(workflow, "load")
    (transform,) = nodes_named(workflow, "transform")
    (publish,) = nodes_named(workflow, "publish")
    (report,) = nodes_named(workflow, f"{name}.onExit")  # retried like every step: ".onExit(0)"
    ingests_done = max(when(n["finishedAt"]) for n in [stocks, *options])
    assert when(load["startedAt"]) >= ingests_done
    assert when(transform["startedAt"]) >= when(load["finishedAt"])
    assert when(publish["startedAt"]) >= when(transform["finishedAt"])
    assert when(report["startedAt"]) >= when(publish["finishedAt"])
    assert (
        len(pod_nodes(workflow)) == 1 + 1 + len(UNDERLYINGS) + 1 + 1 + 1 + 1
    )  # resolve, stocks, options, load, transform, publish, report

    pods = json.loads(
        pipeline.kubectl("get", "pods", "-l", f"workflows.argoproj.io/workflow={name}", "-o", "json")
    )
    args = {p["metadata"]["labels"]["smelt.dev/step"] + p["metadata"]["labels"].get("smelt.dev/underlying", ""):
            next(c for c in p["spec"]["containers"] if c["name"] == "main")["args"] for p in pods["items"]}  # fmt: skip
    assert args["ingest-options-oneNVDA"] == [
        "ingest",
        "options",
        "--date",
        DAY,
        "--underlyings",
        "NVDA",
        "--run-id",
        name,
    ]
    assert args["load"] == ["load", "--date", DAY, "--run-id", name]
    assert args["report"][:6] == ["argo", "report", "--workflow", name, "--status", "Succeeded"]
    assert args["report"][args["report"].index("--start") + 1] == DAY  # the resolved day, a global output


def test_a_closed_day_is_a_clean_skip(pipeline: Cluster) -> None:
    closed = json.dumps({"resolve-trade-date": {"trade-date": "2026-11-26", "trading": "false"}})
    name = pipeline.submit("smelt-daily", {"trade-date": "2026-11-26"}, {"kwok.smelt.dev/outputs": closed})
    workflow = pipeline.wait(name)
    assert workflow["status"]["phase"] == "Succeeded"
    skipped = [n for n in workflow["status"]["nodes"].values() if n["displayName"] == "run-day"]
    assert [n["phase"] for n in skipped] == ["Skipped"]
    assert "evaluated false" in skipped[0]["message"]
    steps = sorted(n["displayName"].split("(")[0] for n in pod_nodes(workflow))
    assert steps == sorted([f"{name}.onExit", "resolve-trade-date"])  # nothing else ran


def test_submit_from_the_cronworkflow_passes_the_scheduled_time(pipeline: Cluster) -> None:
    cron = pipeline.get("cronworkflow", "smelt-daily")["spec"]
    assert cron["schedules"] == ["30 18 * * 1-5"] and cron["timezone"] == "America/New_York"
    name = pipeline.argo("submit", "--from", "cronwf/smelt-daily", "-o", "name").strip()
    workflow = pipeline.wait(name)
    assert workflow["status"]["phase"] == "Succeeded"
    pods = json.loads(pipeline.kubectl("get", "pods", "-l", "smelt.dev/step=resolve-trade-date,"
                                       f"workflows.argoproj.io/workflow={name}", "-o", "json"))["items"]  # fmt: skip
    args = next(c for c in pods[0]["spec"]["containers"] if c["name"] == "main")["args"]
    scheduled = args[args.index("--scheduled") + 1]
    assert dt.datetime.fromisoformat(scheduled).tzinfo is not None, (
        args
    )  # {{workflow.scheduledTime}}, resolved


def test_backfill_runs_one_day_dag_per_trading_day(pipeline: Cluster) -> None:
    name = pipeline.submit("smelt-backfill", {"start": "2026-11-23", "end": "2026-11-26",
                                              "underlyings": json.dumps(["SPY", "QQQ"])})  # fmt: skip
    workflow = pipeline.wait(name, timeout=360)
    assert workflow["status"]["phase"] == "Succeeded", pipeline.argo("get", name)
    days = sorted(n["inputs"]["parameters"][0]["value"] for n in workflow["status"]["nodes"].values()
                  if n["displayName"].startswith("run-day(") and n["type"] == "DAG")  # fmt: skip
    assert days == ["2026-11-23", "2026-11-24", "2026-11-25"]  # what trading-days reported
    assert len(nodes_named(workflow, "load")) == 3 and len(nodes_named(workflow, "transform")) == 3


def test_a_flatfile_backfill_fans_out_one_day_dag_per_day_then_transforms_once(pipeline: Cluster) -> None:
    days = ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"]
    pipeline.state_outputs({**DEFAULT_OUTPUTS, "trading-days": {"days": json.dumps(days)}})
    try:
        name = pipeline.submit("smelt-backfill", {"start": days[0], "end": days[-1], "bars": "flatfiles"},
                               {"kwok.smelt.dev/duration": "2s"})  # fmt: skip
        workflow = pipeline.wait(name, timeout=360)
    finally:
        pipeline.state_outputs(DEFAULT_OUTPUTS)
    assert workflow["status"]["phase"] == "Succeeded", pipeline.argo("get", name)
    nodes = workflow["status"]["nodes"].values()
    day_dags = [n for n in nodes if n["displayName"].startswith("day(") and n["type"] == "DAG"]
    assert sorted(n["inputs"]["parameters"][0]["value"] for n in day_dags) == days
    assert not [n for n in nodes if n["displayName"].startswith("run-day(")]  # the REST branch is skipped
    # the rendered local bound (flatfiles.parallelism) holds: at most two days' pods at once, and it is reached
    spans = [(when(n["startedAt"]), when(n["finishedAt"])) for n in day_dags]
    assert peak_overlap(spans) == 2
    flatfiles, loads = nodes_named(workflow, "ingest-flatfiles"), nodes_named(workflow, "load")
    assert len(flatfiles) == len(loads) == len(days)
    (transform,) = nodes_named(workflow, "transform")
    (publish,) = nodes_named(workflow, "publish")
    assert when(transform["startedAt"]) >= max(when(n["finishedAt"]) for n in loads)
    assert when(publish["startedAt"]) >= when(transform["finishedAt"])

    pods = json.loads(pipeline.kubectl("get", "pods", "-l", f"workflows.argoproj.io/workflow={name},"
                                       "smelt.dev/step=ingest-flatfiles", "-o", "json"))["items"]  # fmt: skip
    main = [next(c for c in p["spec"]["containers"] if c["name"] == "main") for p in pods]
    assert sorted(c["args"][c["args"].index("--start") + 1] for c in main) == days
    # the vendor's keys reach this step only, from its Secret: never an argument or a literal value
    keys = {
        e["name"]: e for c in main for e in c.get("env", []) if e["name"].startswith("POLYGON_FLATFILES_")
    }
    assert set(keys) >= {"POLYGON_FLATFILES_ACCESS_KEY_ID", "POLYGON_FLATFILES_SECRET_ACCESS_KEY"}
    assert all("valueFrom" in e and "value" not in e for e in keys.values())
