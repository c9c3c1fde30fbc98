"""Step times at fan-out scale: what a run with N pods costs the exit handler (parsing its Workflow's nodes)
and the Runs page (30 reports, each carrying N step attempts), against baselines in the same run: decoding
the Workflow's JSON, and the page over 30 reports without steps.

    nice -n 10 .venv/bin/python -m bench.run_steps --pods 27 --pods 1000 --pods 5000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dashboard.marts import SnapshotSource
from dashboard.pages import runs
from dashboard.queries import Queries
from workflows import run_reports
from workflows.argo.node_times import step_times
from workflows.marts_contract import snapshot_folder
from workflows.settings import load_settings

START = dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC)


def workflow(pods: int) -> dict[str, Any]:
    """A smelt-daily-shaped Workflow: a Retry node per step, one Pod attempt each (every tenth retried once)."""
    nodes: dict[str, Any] = {}
    for i in range(pods):
        retry, attempts = f"r{i}", [f"p{i}-0", *([f"p{i}-1"] if i % 10 == 0 else [])]
        name = f"underlying({i}:T{i})"
        nodes[retry] = {"id": retry, "type": "Retry", "displayName": name, "children": attempts}
        for n, attempt in enumerate(attempts):
            began = START + dt.timedelta(seconds=i + 30 * n)
            nodes[attempt] = {
                "id": attempt, "type": "Pod", "displayName": f"{name}({n})", "templateName": "ingest-options-one",
                "phase": "Succeeded" if n == len(attempts) - 1 else "Failed",
                "startedAt": began.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "finishedAt": (began + dt.timedelta(seconds=12)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "outputs": {"exitCode": "0" if n == len(attempts) - 1 else "1"},
                "message": "" if n == len(attempts) - 1 else "main: Error (exit code 1)",
                "children": [f"r{i + 1}"],
            }  # fmt: skip
    return {"metadata": {"name": "smelt-daily-bench"}, "status": {"phase": "Running", "nodes": nodes}}


def p50(fn: Callable[[], object], samples: int) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def page_over(reports: int, steps: list[run_reports.StepTime]) -> tuple[float, int]:
    """The Runs page's draw (uncached) over ``reports`` stored reports with ``steps`` each; its p50 and the
    size of one report."""
    home = Path(tempfile.mkdtemp(prefix="smelt-bench-steps-")) / "home"
    settings = load_settings(home=home)
    size = 0
    for i in range(reports):
        report = run_reports.run_report(
            run_id=f"smelt-daily-{i:03d}", kind="daily", status="Succeeded", source="simulator",
            started_at=START + dt.timedelta(days=i), finished_at=START + dt.timedelta(days=i, minutes=20),
            days=[dt.date(2026, 11, 24)], rows_by_dataset={"stock_bars": 12_000}, steps=steps,
        )  # fmt: skip
        run_reports.store(settings, report)
        size = len(json.dumps(report, indent=1, sort_keys=True))
    return p50(lambda: runs.layout(Queries.over(SnapshotSource(snapshot_folder(home))), {}), 5), size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, action="append", default=[])
    args = parser.parse_args()
    bare, _ = page_over(30, [])
    print(f"Runs page, 30 reports without steps: p50 {bare * 1000:.0f} ms (baseline)")
    for pods in args.pods or [27, 1000]:
        text = json.dumps(workflow(pods))
        decode = p50(lambda text=text: json.loads(text), 5)  # type: ignore[misc]
        parse = p50(lambda text=text: step_times(json.loads(text)), 5)  # type: ignore[misc]
        steps = step_times(json.loads(text))
        page, size = page_over(30, steps)
        print(f"{pods} pods ({len(steps)} attempts): Workflow {len(text) / 1024:.0f} KiB, decode {decode * 1000:.1f} ms, "
              f"decode + step_times {parse * 1000:.1f} ms ({parse / decode:.1f}x); report {size / 1024:.0f} KiB; "
              f"Runs page over 30 such: p50 {page * 1000:.0f} ms ({page / bare:.1f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
