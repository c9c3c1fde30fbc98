"""The exit handler of a run: its outcome (status, failed nodes) and the raw rows it landed, for Argo.

Every step of a run writes its manifests with the workflow's name as run id, so the lake itself says what
a run landed; a retried step resumes rather than landing again, so nothing is counted twice, and nothing
depends on a step having reported.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workflows import calendar, run_reports
from workflows.argo.incluster import InCluster, WorkflowUnreadable
from workflows.argo.node_times import NodesUnavailable, step_times
from workflows.lake import Lake
from workflows.run_reports import FailedNode, StepTime, exit_code_of, run_report


@dataclass(frozen=True)
class Failure:
    node: str
    template: str
    message: str


@dataclass(frozen=True)
class Outcome:
    workflow: str
    status: str
    failures: list[Failure]
    rows: int
    rows_by_dataset: dict[str, int] = field(default_factory=dict)


def parse_failures(text: str) -> list[Failure]:
    """Argo's {{workflow.failures}}: a JSON list of failed nodes, or ``null`` when none failed.

    Argo quotes the JSON once more (``"null"``, ``"[{…}]"``) so that substitution keeps its quotes.
    """
    try:
        nodes = json.loads(text) if text.strip() else None
        if isinstance(nodes, str):
            nodes = json.loads(nodes) if nodes.strip() else None
    except json.JSONDecodeError:
        return [Failure("?", "?", f"unreadable failure list from Argo: {text[:200]!r}")]
    return [
        Failure(str(n.get("displayName", "?")), str(n.get("templateName", "?")), str(n.get("message", "")))
        for n in (nodes or [])
        if isinstance(n, dict)
    ]


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:  # e.g. the trade date was never resolved because that step failed
        return None


def rows_landed(lake: Lake, workflow: str, start: str, end: str) -> dict[str, int]:
    """Rows per dataset in the manifests this workflow's pods wrote for the days from start to end."""
    first, last = _day(start), _day(end)
    if first is None or last is None:
        return {}
    return run_reports.rows_landed(lake, workflow, first, last)


def outcome(lake: Lake, workflow: str, status: str, failures: str, start: str, end: str) -> Outcome:
    by_dataset = rows_landed(lake, workflow, start, end)
    return Outcome(workflow, status, parse_failures(failures), sum(by_dataset.values()), by_dataset)


def as_log_fields(result: Outcome) -> dict[str, Any]:
    return {
        "workflow": result.workflow,
        "status": result.status,
        "rows": result.rows,
        "rows_by_dataset": result.rows_by_dataset,
        "failed_nodes": [f"{f.node} ({f.template}): {f.message}" for f in result.failures],
    }


def run_steps(
    workflow: str, cluster: Callable[[], InCluster] = InCluster.from_pod
) -> tuple[list[StepTime], str | None]:
    """The run's step attempts from its own Workflow object, or none and why: reading them is a courtesy
    the report can do without, so nothing here fails the exit handler (decision 115)."""
    try:
        return step_times(cluster().workflow(workflow)), None
    except (WorkflowUnreadable, NodesUnavailable) as exc:
        return [], str(exc)
    except Exception as exc:  # a malformed object must not cost the run its report
        return [], f"unexpected {type(exc).__name__} reading the workflow's nodes"


def _started(text: str, seconds: float, now: dt.datetime) -> dt.datetime:
    """The run's start: Argo's ``{{workflow.creationTimestamp}}`` (RFC 3339), else now less its duration."""
    try:
        started = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return now - dt.timedelta(seconds=seconds)
    return started if started.tzinfo else started.replace(tzinfo=dt.UTC)


def _seconds(text: str) -> float:
    try:
        return max(float(text), 0.0)
    except ValueError:  # not substituted: a run the controller could not time
        return 0.0


def report_of(
    result: Outcome,
    *,
    kind: str,
    source: str,
    started: str,
    duration: str,
    start: str,
    end: str,
    now: dt.datetime,
    steps: list[StepTime] | None = None,
    steps_unavailable: str | None = None,
) -> dict[str, Any]:
    """The run report (workflows/run_reports.py) of an Argo run: its outcome, trading days, failed nodes with
    their exit codes (from Argo's node messages), its wall time from ``{{workflow.duration}}``, and its step
    attempts from the Workflow object when they could be read (:func:`run_steps`)."""
    seconds = _seconds(duration)
    first, last = _day(start), _day(end)
    days = calendar.trading_days(first, last) if first and last and first <= last else []
    return run_report(
        run_id=result.workflow,
        kind=kind,
        status=result.status,
        source=source,
        started_at=_started(started, seconds, now),
        finished_at=now,
        days=days,
        rows_by_dataset=result.rows_by_dataset,
        failed=[FailedNode(f.node, f.template, f.message, exit_code_of(f.message)) for f in result.failures],
        steps=steps or [],
        steps_unavailable=steps_unavailable,
    )
