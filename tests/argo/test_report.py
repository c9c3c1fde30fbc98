"""The exit handler counts what a run landed from the lake itself, and lists the failed nodes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workflows import run_reports, steps
from workflows.argo import report
from workflows.cli import app
from workflows.lake import FolderStorage, Lake, open_storage
from workflows.marts_contract import snapshot_folder
from workflows.settings import load_settings

DAY = "2026-11-24"


def _smelt(*args: str) -> None:
    done = CliRunner().invoke(app, list(args))
    assert done.exit_code == 0, done.output


def test_rows_of_this_workflow_only(tmp_path: Path) -> None:
    # Two steps of the run "smelt-daily-x7k2p" (Argo passes {{workflow.name}} as run id) and one of another.
    _smelt("ingest", "stocks", "--date", DAY, "--run-id", "smelt-daily-x7k2p")
    _smelt("ingest", "options", "--date", DAY, "--underlyings", "SPY", "--run-id", "smelt-daily-x7k2p")
    _smelt("ingest", "options", "--date", DAY, "--underlyings", "QQQ", "--run-id", "smelt-daily-x7k2pq")
    lake = Lake.open(load_settings().lake)
    expected: dict[str, int] = {}
    for key in lake.manifest_keys(day=dt.date.fromisoformat(DAY)):
        manifest = lake.read_manifest(key)
        if manifest.run_id == "smelt-daily-x7k2p":
            expected[manifest.dataset] = expected.get(manifest.dataset, 0) + manifest.rows
    assert {"stock_bars", "option_contracts"} <= set(expected)  # and whatever else the steps land for the day

    result = report.outcome(lake, "smelt-daily-x7k2p", "Succeeded", "null", DAY, DAY)
    assert result.rows_by_dataset == expected and result.rows == sum(expected.values()) > 0
    assert (
        report.outcome(lake, "smelt-daily-x7k2", "Succeeded", "null", DAY, DAY).rows == 0
    )  # a prefix is not a run

    out = tmp_path / "outputs"
    _smelt("argo", "report", "--workflow", "smelt-daily-x7k2p", "--status", "Succeeded", "--start", DAY, "--end", DAY,
           "--out-dir", str(out))  # fmt: skip
    assert int((out / "rows").read_text()) == result.rows


def test_failed_nodes_are_named_and_an_unresolved_day_counts_nothing(tmp_path: Path) -> None:
    failures = json.dumps([
        {"displayName": "load(0)", "message": "Error (exit code 3)", "templateName": "load", "phase": "Failed"},
    ])  # fmt: skip
    lake = Lake.open(load_settings().lake)
    result = report.outcome(
        lake, "smelt-daily-a", "Failed", failures, "{{workflow.outputs.parameters.trade-date}}", "x"
    )
    assert result.failures == [report.Failure("load(0)", "load", "Error (exit code 3)")]
    assert (
        report.parse_failures(json.dumps(failures)) == result.failures
    )  # as Argo passes it: quoted once more
    assert report.parse_failures('"null"') == []
    assert result.rows == 0
    assert report.parse_failures("not json")[0].message.startswith("unreadable failure list")
    out = tmp_path / "o"
    done = CliRunner().invoke(app, ["argo", "report", "--workflow", "smelt-daily-a", "--status", "Failed",
                                    "--failures", failures, "--start", "?", "--end", "?", "--out-dir", str(out)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert (out / "rows").read_text() == "0"


def test_a_flat_file_backfill_counts_the_csv_rows_of_its_days() -> None:
    """The backfill's exit handler over its range: a flat-file day's manifests count their CSV data lines,
    those of another run do not, and a day outside the range is not read."""
    from workflows.lake.keys import manifest_key, part_key
    from workflows.lake.manifest import Manifest, PartInfo

    lake = Lake.open(load_settings().lake)
    run = "smelt-backfill-f1at"

    def land(dataset: str, day: str, run_id: str, rows: int) -> None:
        date = dt.date.fromisoformat(day)
        part = PartInfo(part_key(dataset, date, None, run_id, 0), rows, 100, "0" * 64)
        manifest = Manifest(dataset, date, None, run_id, "simulator", "2026-11-26T16:00:00Z", (part,),
                            {"format": "csv.gz"})  # fmt: skip
        assert manifest.key == manifest_key(dataset, date, None, run_id)
        lake.storage.put_exclusive(manifest.key, manifest.to_json())

    land("stock_day_aggs", "2026-11-23", run, 3000)
    land("option_day_aggs", "2026-11-23", run, 1_400_000)
    land("option_day_aggs", "2026-11-24", run, 1_350_000)
    land("option_day_aggs", "2026-11-24", "smelt-backfill-other", 7)
    land("option_day_aggs", "2026-11-25", run, 5)  # after the range

    result = report.outcome(lake, run, "Succeeded", "null", "2026-11-23", "2026-11-24")
    assert result.rows_by_dataset == {"stock_day_aggs": 3000, "option_day_aggs": 2_750_000}
    assert result.rows == 2_753_000


def test_the_exit_handler_stores_one_report_per_run_and_a_retry_overwrites_it(tmp_path: Path) -> None:
    _smelt("ingest", "stocks", "--date", DAY, "--run-id", "smelt-daily-r3p0t")
    failures = json.dumps(json.dumps([
        {"displayName": "run-day(0).load", "message": "Error (exit code 3)", "templateName": "load"},
        {"displayName": "run-day(0)", "message": "child 'run-day(0).load' failed", "templateName": "day"},
    ]))  # fmt: skip
    args = ["argo", "report", "--workflow", "smelt-daily-r3p0t", "--start", DAY, "--end", DAY, "--kind", "daily",
            "--started", "2026-11-24T23:30:05Z", "--duration", "95", "--failures", failures,
            "--out-dir", str(tmp_path / "outputs")]  # fmt: skip
    _smelt(*args, "--status", "Running")  # a first attempt of the exit handler, then its retry
    _smelt(*args, "--status", "Failed")

    settings = load_settings()
    storage = FolderStorage(Path(settings.lake.removeprefix("file://")))
    (key,) = storage.list_keys(run_reports.RUNS_PREFIX)
    assert key == f"{run_reports.RUNS_PREFIX}/20261124T233005Z-smelt-daily-r3p0t.json"
    stored = json.loads(storage.get_bytes(key))
    assert stored["status"] == "Failed" and stored["kind"] == "daily"
    assert (stored["first_day"], stored["last_day"], stored["trading_days"]) == (DAY, DAY, 1)
    assert (
        stored["rows"] == sum(stored["rows_by_dataset"].values()) > 0
        and "stock_bars" in stored["rows_by_dataset"]
    )
    assert stored["failed_nodes"][0] == {
        "node": "run-day(0).load", "template": "load", "exit_code": 3, "message": "Error (exit code 3)"
    }  # fmt: skip
    assert stored["failed_nodes"][1]["exit_code"] is None  # a DAG node fails without a process of its own
    # DuckDB: the same report beside the marts snapshot, which is all the DuckDB dashboard reads
    snapshot = snapshot_folder(settings.home) / "runs" / key.rsplit("/", 1)[-1]
    assert json.loads(snapshot.read_text()) == stored
    assert run_reports.recent(storage, run_reports.RUNS_PREFIX) == [stored]


def test_a_failed_embedded_run_stores_its_report_naming_the_phase(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home", underlyings=("IWM",), sim_now=DAY,
                             sim_faults="rate_429=1,retry_after=0,max_consecutive=50")  # fmt: skip
    day = dt.date.fromisoformat(DAY)
    with pytest.raises(steps.StepError):
        steps.run(
            steps.Resources.from_settings(settings), start=day, end=day, run_id="20261124T233000Z-feedbeef"
        )
    (stored,) = run_reports.recent(open_storage(settings.lake), run_reports.RUNS_PREFIX)
    assert stored["run_id"] == "20261124T233000Z-feedbeef" and stored["kind"] == "embedded"
    assert stored["status"] == "Failed" and stored["first_day"] == DAY
    (node,) = stored["failed_nodes"]
    assert node["node"] == "ingest" and node["exit_code"] == 1 and "RateLimit" in node["message"]
    # the phase that failed is a step of its own, in the shape an Argo run's pod nodes have
    (step,) = stored["steps"]
    assert {k: step[k] for k in ("step", "template", "node", "phase", "exit_code", "attempt", "attempts")} == {
        "step": "ingest", "template": "smelt run", "node": "ingest", "phase": "Failed", "exit_code": 1,
        "attempt": 1, "attempts": 1,
    }  # fmt: skip
    assert step["seconds"] >= 0 and step["started_at"] <= step["finished_at"]
    assert stored["steps_unavailable"] is None
