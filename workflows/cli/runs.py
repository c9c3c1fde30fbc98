"""``smelt runs``: the pipeline's recent runs from their reports in the lake, as the dashboard's Runs page
lists them (workflows/run_reports.py)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from workflows.cli.shared import EXIT_RETRYABLE, settings_or_exit

HEADER = (
    "started (UTC)",
    "outcome",
    "run",
    "kind",
    "trading days",
    "duration",
    "slowest step",
    "rows",
    "failed nodes",
)


def runs(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many of the newest runs.")] = 30,
    as_json: Annotated[
        bool, typer.Option("--json", help="The reports as a JSON list, newest first.")
    ] = False,
    steps: Annotated[
        bool, typer.Option("--steps", help="Under each run, every step attempt with its duration.")
    ] = False,
) -> None:
    """The newest runs, newest first: outcome, trading days, duration, slowest step, rows landed, failed
    nodes; with --steps, each run's step attempts in start order."""
    from workflows import logs, run_reports
    from workflows.lake import LakeError, open_storage

    settings = settings_or_exit()
    try:
        reports = run_reports.recent(
            open_storage(settings.lake, settings.s3_endpoint_url), run_reports.RUNS_PREFIX, limit
        )
    except (LakeError, OSError) as exc:
        logs.get_logger("smelt.runs").error("runs: cannot read the lake", error=logs.redact(str(exc)))
        raise typer.Exit(EXIT_RETRYABLE) from None
    if as_json:
        sys.stdout.write(json.dumps(reports, indent=1) + "\n")
        return
    if not reports:
        sys.stdout.write(f"no run reports in {settings.lake}/{run_reports.RUNS_PREFIX} yet: `smelt run` stores "
                         "one, and so does every Argo run's exit handler\n")  # fmt: skip
        return
    rows = [HEADER, *(_row(r) for r in reports)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    for i, row in enumerate(rows):
        sys.stdout.write(
            "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[-1] + "\n"
        )
        if steps and i:
            sys.stdout.write("".join(f"    {line}\n" for line in _steps(reports[i - 1])))


def _steps(report: dict[str, Any]) -> list[str]:
    """A run's step attempts, one line each: when it started, the step, its attempt, duration and outcome."""
    from workflows.run_reports import step_text

    if not report.get("steps"):
        return [f"no steps recorded: {report.get('steps_unavailable') or 'the report predates them'}"]
    return [f"{str(s.get('started_at') or '')[11:19] or '--:--:--'}  {step_text(s)}" for s in report["steps"]]


def _row(report: dict[str, Any]) -> tuple[str, ...]:
    from workflows.run_reports import duration_text, slowest_step, step_text

    started = str(report.get("started_at") or "")
    first, last = report.get("first_day"), report.get("last_day")
    days = (
        "none"
        if not first
        else (str(first) if first == last else f"{first}..{last} ({report.get('trading_days')})")
    )
    failed = ", ".join(
        f"{n.get('node')} (exit {n['exit_code']})" if n.get("exit_code") is not None else str(n.get("node"))
        for n in report.get("failed_nodes") or []
    )
    return (f"{started[:10]} {started[11:19]}", str(report.get("status", "?")).lower(), str(report.get("run_id")),
            str(report.get("kind", "")), days, duration_text(float(report.get("seconds") or 0)),
            step_text(slowest) if (slowest := slowest_step(report)) else "-",
            f"{int(report.get('rows') or 0):,}", failed or "-")  # fmt: skip
