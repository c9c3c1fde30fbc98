"""/runs: the pipeline's recent runs (outcome, trading days, duration, rows, failed nodes), each linked to
its day's data on the other pages.

The rows are the run reports the exit handler (or ``smelt run``) stored (workflows/run_reports.py), read
through the marts source like ``build.json``. They are read when the page is drawn, not per snapshot version:
a failed run publishes no new version, and that is the run this page exists to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import Dash, dcc, html

from dashboard import state
from dashboard.layout import SOURCE_STORE, notice
from dashboard.queries import Queries
from workflows.run_reports import SUCCEEDED, duration_text, slowest_step, step_text

PATH, TITLE, PREFIX = "/runs", "Runs", "runs"
STATE: dict[str, tuple[str, str]] = {}
#: Where a run's day links to: the pages that read `?date=`.
DAY_PAGES = (("/market", "market"), ("/chain", "chain"), ("/positioning", "positioning"))
#: Step attempts a run's detail lists one by one; a wider fan-out is summarised per template.
STEP_LINES = 60
HEADER = [
    "started (UTC)",
    "outcome",
    "run",
    "trading days",
    "duration",
    "slowest step",
    "rows",
    "failed nodes",
    "its data",
]


def outcome_summary(statuses: list[Any]) -> str:
    """One line over the listed runs: "the newest run: succeeded", "the 3 newest runs: 1 not succeeded"."""
    if not statuses:
        return ""
    failed = sum(1 for status in statuses if status != SUCCEEDED)
    if len(statuses) == 1:
        return "the newest run: " + ("not succeeded" if failed else "succeeded")
    return f"the {len(statuses)} newest runs: " + (f"{failed} not succeeded" if failed else "all succeeded")


def layout(q: Queries, params: Mapping[str, str]) -> html.Div:
    runs = q.runs()
    if not runs:
        body: Any = notice("no run reports yet: `smelt run` stores one at its end, and on Argo every "
                           "smelt-daily and smelt-backfill run's exit handler does")  # fmt: skip
    else:
        body = html.Table([html.Thead(html.Tr([html.Th(h, scope="col") for h in HEADER])),
                           html.Tbody([_row(run) for run in runs])],
                          className="plain runs-table", id=f"{PREFIX}-table")  # fmt: skip
    summary = outcome_summary([run.get("status") for run in runs])
    # the simulated-data banner, like the pages whose charts drew simulated rows
    source = "simulator" if any(run.get("source") == "simulator" for run in runs) else None
    return html.Div([
        dcc.Store(id={"type": SOURCE_STORE, "chart": f"{PREFIX}-table"}, data=source),
        html.Section([html.H2("Recent runs", className="card-title", id=f"{PREFIX}-title"),
                      html.P(summary, className="note", role="status", id=f"{PREFIX}-summary"), body],
                     className="card", **{"aria-labelledby": f"{PREFIX}-title"}),
    ])  # fmt: skip


def _row(run: Mapping[str, Any]) -> html.Tr:
    status = str(run.get("status", "?"))
    failed = run.get("failed_nodes") or []
    nodes = [html.Li(f"{n.get('node')} ({n.get('template')}, " +
                     (f"exit {n['exit_code']}" if n.get("exit_code") is not None else "no exit code") + ")",
                     title=str(n.get("message", ""))) for n in failed]  # fmt: skip
    started = str(run.get("started_at") or "")
    return html.Tr([
        html.Td(f"{started[:10]} {started[11:16]}"),
        html.Td(status.lower(), className=f"status-{'pass' if status == SUCCEEDED else 'fail'}"),
        html.Td([html.Span(str(run.get("run_id", "?"))), html.Br(), html.Small(str(run.get("kind", "")))]),
        html.Td(_days(run)),
        html.Td(duration_text(float(run.get("seconds") or 0)), className="num"),
        html.Td(_steps(run)),
        html.Td(f"{int(run.get('rows') or 0):,}", className="num",
                title=", ".join(f"{k}: {v:,}" for k, v in (run.get("rows_by_dataset") or {}).items())),
        html.Td(html.Ul(nodes, className="plain-list") if nodes else "none"),
        html.Td(_links(run.get("last_day"))),
    ])  # fmt: skip


def _steps(run: Mapping[str, Any]) -> Any:
    """The slowest step, opening onto every step attempt in start order (or, for a wide fan-out, one line per
    template); or why the run has none."""
    slowest = slowest_step(run)
    if slowest is None:
        why = run.get("steps_unavailable")
        return html.Span("not recorded", title=str(why), className="note") if why else "-"
    steps = [s for s in run.get("steps") or [] if isinstance(s, dict)]
    if len(steps) <= STEP_LINES:
        lines = [html.Li(step_text(step), title=f"{step.get('node')} ({step.get('template')})"
                         + (f", exit {step['exit_code']}" if step.get("exit_code") is not None else ""))
                 for step in steps]  # fmt: skip
    else:
        lines = [html.Li(line) for line in _by_template(steps)]
    return html.Details([html.Summary(step_text(slowest)), html.Ol(lines, className="plain-list run-steps")])


def _by_template(steps: list[dict[str, Any]]) -> list[str]:
    """A fan-out's attempts as one line per template, most time first: a whole-market day has thousands of
    pods, and a line each would make the page megabytes (docs/benchmarks.md, run steps)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for step in steps:
        groups.setdefault(str(step.get("template")), []).append(step)
    lines = []
    for template, group in sorted(
        groups.items(), key=lambda g: -sum(float(s.get("seconds") or 0) for s in g[1])
    ):
        timed = [float(s["seconds"]) for s in group if s.get("seconds") is not None]
        failed = sum(1 for s in group if s.get("phase") not in (SUCCEEDED, "Running", "Pending"))
        lines.append(f"{template}: {len(group):,} attempt{'s' if len(group) > 1 else ''}, " + (f"slowest {duration_text(max(timed))}, "
                     f"{duration_text(sum(timed))} in all" if timed else "none finished")
                     + (f", {failed:,} failed" if failed else ""))  # fmt: skip
    return lines[:STEP_LINES]


def _days(run: Mapping[str, Any]) -> str:
    first, last, count = run.get("first_day"), run.get("last_day"), int(run.get("trading_days") or 0)
    if not first:
        return "none (no trading day resolved)"
    return str(first) if first == last else f"{first} to {last} ({count} days)"


def _links(day: Any) -> Any:
    """The run's (last) day on the pages that show a day; the ticker is each page's default."""
    if not day:
        return ""
    search = state.encode({"date": str(day)})
    links: list[Any] = []
    for path, label in DAY_PAGES:
        links += [" · "] if links else []
        links.append(dcc.Link(label, href=f"{path}{search}", className="run-link"))
    return links


def register(app: Dash, q: Queries) -> None:
    """Nothing to call back: the page is drawn from the reports when it is opened."""
