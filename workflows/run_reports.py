"""Run reports: one JSON object per pipeline run, what the Runs page, ``smelt runs`` and alerts read.

The record lives in the lake under :data:`RUNS_PREFIX`, one object per run named by when the run started and
its run id (``20261127T233000Z-smelt-daily-x7k2p.json``): names sort by start, so the newest runs are the last
keys of one listing, and a retried exit handler (same run, same start) overwrites its own object instead of
adding one. Objects are written whole (a rename on a folder, one PUT on S3), never appended to.

On DuckDB a copy also goes to the marts snapshot's ``runs/`` folder, because that volume is all the DuckDB
dashboard can read (decision 100); on Snowflake the dashboard reads the lake prefix, as for ``build.json``.
Only the lake's storage interface is used, so the dashboard reads reports without the pipeline's steps.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from workflows.lake.errors import KeyMissingError
from workflows.marts_contract import RUNS_DIR, snapshot_folder

if TYPE_CHECKING:
    from workflows.lake import Lake
    from workflows.lake.storage import Storage
    from workflows.settings import Settings

#: Lake prefix of the run reports.
RUNS_PREFIX = "_smelt/runs"
#: Runs the Runs page and ``smelt runs`` show by default.
RECENT_RUNS = 30
SUCCEEDED = "Succeeded"
#: Argo's node message for a container that exited non-zero: "Error (exit code 3)".
_EXIT_CODE = re.compile(r"exit code (\d+)")


@dataclass(frozen=True)
class StepTime:
    """One attempt of one step, the same shape from Argo (a Pod node of the Workflow) and ``smelt run`` (a
    phase): where a run's time went and which attempts it took (decision 114)."""

    step: str
    template: str
    node: str
    phase: str
    started_at: str | None
    finished_at: str | None
    seconds: float | None
    exit_code: int | None = None
    attempt: int = 1
    attempts: int = 1


@dataclass(frozen=True)
class FailedNode:
    """A node of the run that failed: its name, template, exit code (when it had one) and Argo's message."""

    node: str
    template: str
    message: str
    exit_code: int | None = None


def exit_code_of(message: str) -> int | None:
    """The exit code in an Argo node message (``Error (exit code 3)``), or None (a node error, a deadline)."""
    found = _EXIT_CODE.search(message)
    return int(found.group(1)) if found else None


def rows_landed(lake: Lake, run_id: str, first: dt.date, last: dt.date) -> dict[str, int]:
    """Rows per dataset in the manifests the run wrote for the days from first to last: every step stores its
    manifests under the run id, so the lake itself says what a run landed (decision 38)."""
    counts: dict[str, int] = {}
    day = first
    while day <= last:
        for key in lake.manifest_keys(day=day):
            if key.rsplit("/", 1)[-1] == f"{run_id}.json":
                manifest = lake.read_manifest(key)
                counts[manifest.dataset] = counts.get(manifest.dataset, 0) + manifest.rows
        day += dt.timedelta(days=1)
    return counts


def duration_text(seconds: float) -> str:
    """A run's wall time as a person reads it: ``42s``, ``12m 03s``, ``2h 05m``."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else (f"{minutes}m {secs:02d}s" if minutes else f"{secs}s")


def report_name(started_at: dt.datetime, run_id: str) -> str:
    """The object's name: start time (UTC, to the second) first so names sort by start, then the run id."""
    if started_at.tzinfo is None:
        raise ValueError("started_at must be timezone-aware")
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", run_id)
    return f"{started_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{safe}.json"


def run_report(
    *,
    run_id: str,
    kind: str,
    status: str,
    source: str,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    days: Iterable[dt.date],
    rows_by_dataset: Mapping[str, int],
    failed: Iterable[FailedNode] = (),
    steps: Iterable[StepTime] = (),
    steps_unavailable: str | None = None,
) -> dict[str, Any]:
    """The report's JSON object: what happened, to which trading days, how many rows, how long each step took
    (``steps``, in start order; ``steps_unavailable`` says why there are none when they could not be read)."""
    trading = sorted(set(days))
    return {
        "run_id": run_id,
        "kind": kind,
        "status": status,
        "source": source,
        "started_at": started_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "finished_at": finished_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(max((finished_at - started_at).total_seconds(), 0.0), 1),
        "first_day": trading[0].isoformat() if trading else None,
        "last_day": trading[-1].isoformat() if trading else None,
        "trading_days": len(trading),
        "rows": sum(rows_by_dataset.values()),
        "rows_by_dataset": dict(sorted(rows_by_dataset.items())),
        "failed_nodes": [
            {"node": f.node, "template": f.template, "exit_code": f.exit_code, "message": f.message[:500]}
            for f in failed
        ],
        "steps": [asdict(step) for step in steps],
        "steps_unavailable": steps_unavailable,
    }


def slowest_step(report: Mapping[str, Any]) -> dict[str, Any] | None:
    """The finished step attempt that took longest, or None (no steps recorded, e.g. an older report)."""
    timed = [s for s in report.get("steps") or [] if isinstance(s, dict) and s.get("seconds") is not None]
    return max(timed, key=lambda s: float(s["seconds"]), default=None)


def step_text(step: Mapping[str, Any]) -> str:
    """One step attempt as a person reads it: ``transform 1m 02s``, ``load (attempt 2 of 2) 4s, failed``."""
    attempt = (
        f" (attempt {step.get('attempt')} of {step.get('attempts')})"
        if (step.get("attempts") or 1) > 1
        else ""
    )
    took = duration_text(float(step["seconds"])) if step.get("seconds") is not None else "not finished"
    phase = str(step.get("phase") or SUCCEEDED)  # reports before decision 114 kept finished phases only
    return f"{step.get('step')}{attempt} {took}" + ("" if phase == SUCCEEDED else f", {phase.lower()}")


def write(storage: Storage, prefix: str, report: Mapping[str, Any]) -> str:
    """Store ``report`` under ``prefix`` whole (replacing this run's earlier report); returns its key."""
    key = f"{prefix}/{report_name(dt.datetime.fromisoformat(report['started_at']), report['run_id'])}"
    with tempfile.TemporaryDirectory(prefix="smelt-run-report-") as tmp:
        body = Path(tmp) / "report.json"
        body.write_text(json.dumps(report, indent=1, sort_keys=True))
        storage.put_file(body, key)
    return key


def recent(storage: Storage, prefix: str, limit: int = RECENT_RUNS) -> list[dict[str, Any]]:
    """The newest ``limit`` reports, newest first; an unreadable object is skipped, not fatal to the list."""
    keys = sorted(k for k in storage.list_keys(prefix) if k.endswith(".json"))
    reports = []
    for key in reversed(keys[-limit:] if limit > 0 else []):
        try:
            data = orjson.loads(storage.get_bytes(key))  # a whole-market run's report is megabytes of steps
        except (ValueError, KeyMissingError):  # malformed, or deleted between the listing and the read
            continue
        if isinstance(data, dict):
            reports.append(data)
    return reports


def store(settings: Settings, report: Mapping[str, Any]) -> list[str]:
    """Write the report to the lake and, on DuckDB, to the snapshot's ``runs/`` folder; returns where."""
    from workflows.lake.storage import FolderStorage, open_storage

    where = [
        f"{settings.lake}/{write(open_storage(settings.lake, settings.s3_endpoint_url), RUNS_PREFIX, report)}"
    ]
    if settings.warehouse == "duckdb":
        snapshot = snapshot_folder(settings.home)
        where.append(str(snapshot / write(FolderStorage(snapshot), RUNS_DIR, report)))
    return where
