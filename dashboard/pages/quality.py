"""/quality: how fresh and how sound the data behind the other pages is: source freshness, the last build's
dbt test results, rows and manifests loaded per day and dataset, and what each mart holds.

Everything comes from the build summary published with the snapshot (``build.json``: see
``workflows/publish.py``), so this page never touches the raw schema.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import dash_ag_grid as dag
import pandas as pd
from dash import Dash, Input, Output, html

from dashboard import figures
from dashboard.layout import chart, chart_outputs, drawn, not_drawn, notice
from dashboard.marts import NoSnapshotError
from dashboard.pages.common import guarded, log
from dashboard.queries import Queries

PATH, TITLE, PREFIX = "/quality", "Quality", "quality"
STATE: dict[str, tuple[str, str]] = {}
#: The order problems are listed in: failures first.
SEVERITY = {"error": 0, "fail": 1, "runtime error": 2, "warn": 3, "pass": 4, "success": 5, "skipped": 6}
TEST_COLUMNS = [
    {"field": "status", "headerName": "Status", "width": 90, "cellClass": {"function": "'status-' + params.value"}},
    {"field": "test", "headerName": "Test", "flex": 2, "minWidth": 260},
    {"field": "kind", "headerName": "Kind", "width": 80},
    {"field": "failures", "headerName": "Failing rows", "width": 120, "type": "rightAligned"},
    {"field": "seconds", "headerName": "Seconds", "width": 100, "type": "rightAligned"},
    {"field": "message", "headerName": "Message", "flex": 2, "minWidth": 200},
]  # fmt: skip


def layout(q: Queries, params: Mapping[str, str]) -> html.Div:
    return html.Div([
        html.Section([html.H2("Freshness SLA", className="card-title", id=f"{PREFIX}-sla-title"),
                      _sla(q)], className="card", **{"aria-labelledby": f"{PREFIX}-sla-title"}),
        html.Section([html.H2("Snapshot", className="card-title", id=f"{PREFIX}-snap-title"),
                      html.Ul(id=f"{PREFIX}-kpis", className="kpis")],
                     className="card", **{"aria-labelledby": f"{PREFIX}-snap-title"}),
        html.Div([
            html.Section([html.H2("Source freshness", className="card-title", id=f"{PREFIX}-fresh-title"),
                          html.Div(id=f"{PREFIX}-freshness")],
                         className="card", **{"aria-labelledby": f"{PREFIX}-fresh-title"}),
            html.Section([html.H2("Marts", className="card-title", id=f"{PREFIX}-marts-title"),
                          html.Div(id=f"{PREFIX}-marts")],
                         className="card", **{"aria-labelledby": f"{PREFIX}-marts-title"}),
        ], className="grid-2"),
        html.Section([
            html.H2("dbt tests of the last build", className="card-title", id=f"{PREFIX}-tests-title"),
            html.Div(id=f"{PREFIX}-tests-note", className="note", role="status"),
            dag.AgGrid(id=f"{PREFIX}-tests", columnDefs=TEST_COLUMNS, rowData=[], className="smelt-grid",
                       defaultColDef={"sortable": True, "resizable": True, "filter": True},
                       dashGridOptions={"rowHeight": 30}, style={"height": "360px", "width": "100%"}),
        ], className="card", **{"aria-labelledby": f"{PREFIX}-tests-title"}),
        html.Div([
            chart(f"{PREFIX}-loads", "Raw rows loaded per day and dataset"),
            html.Section([html.H2("Manifests loaded", className="card-title", id=f"{PREFIX}-manifests-title"),
                          html.Div(id=f"{PREFIX}-manifests")],
                         className="card", **{"aria-labelledby": f"{PREFIX}-manifests-title"}),
        ], className="grid-2"),
    ])  # fmt: skip


def _sla(q: Queries) -> html.Div | html.P:
    """Judged when the page is drawn (the clock moves on between versions): on time, or late and why."""
    try:
        verdict = q.freshness()
    except NoSnapshotError:
        raise
    except Exception as exc:
        log.exception("freshness check failed")
        return notice(f"the freshness could not be judged ({type(exc).__name__}); the server log has the details",
                      "error")  # fmt: skip
    state = ("on time", "status-pass") if verdict.fresh else ("late", "status-fail")
    kpis = [("marts", html.Span(state[0], className=f"kpi-value {state[1]}")),
            ("newest trading day", str(verdict.newest or "none")), ("session due", str(verdict.expected)),
            ("due by", f"{verdict.due_at:%Y-%m-%d %H:%M} UTC")]  # fmt: skip
    items = [html.Li([html.Span(k, className="kpi-label"), v if not isinstance(v, str) else
                      html.Span(v, className="kpi-value")], className="kpi") for k, v in kpis]  # fmt: skip
    return html.Div([html.Ul(items, className="kpis"),
                     html.P(verdict.message, id=f"{PREFIX}-sla", role="status", className="note")])  # fmt: skip


def _table(header: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> html.Table:
    numeric = numeric or set()
    head = html.Thead(html.Tr([html.Th(h, scope="col") for h in header]))
    body = html.Tbody([
        html.Tr([html.Td(str(v) if v is not None else "", className="num" if i in numeric else
                         (f"status-{str(v).replace(' ', '-')}" if header[i] == "status" else None))
                 for i, v in enumerate(row)])
        for row in rows
    ])  # fmt: skip
    return html.Table([head, body], className="plain")


def _when(stamp: Any) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM UTC' (what a person reads at a glance)."""
    text = str(stamp or "")
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 else text


@guarded(extra=(None, None, None, [], None, None))
def quality_view(q: Queries, theme: Any) -> tuple[Any, ...]:
    """The loads chart's four outputs, then KPIs, freshness, marts, tests rows, tests note, manifests."""
    build = q.build()
    marts: dict[str, dict[str, Any]] = build.get("marts") or {}
    tests: list[dict[str, Any]] = build.get("tests") or []
    loads = pd.DataFrame(
        build.get("loads") or [], columns=["dataset", "trade_date", "manifests", "rows", "last_loaded_at"]
    )
    sources = {s for m in marts.values() for s in m.get("sources") or []}
    source = "simulator" if "simulator" in sources else ("polygon" if sources else None)

    kpis = [("snapshot", build.get("version", "?")), ("published", _when(build.get("published_at"))),
            ("warehouse", build.get("warehouse", "?")), ("data source", ", ".join(sorted(sources)) or "none"),
            ("mart rows", f"{sum(int(m.get('rows') or 0) for m in marts.values()):,}")]  # fmt: skip
    kpi_items = [html.Li([html.Span(k, className="kpi-label"), html.Span(str(v), className="kpi-value")],
                         className="kpi") for k, v in kpis]  # fmt: skip

    fresh_rows = [
        [str(f["source"]).split(".")[-1], f["status"], _when(f.get("max_loaded_at")), f.get("age_hours")]
        for f in build.get("freshness") or []
    ]
    freshness = (_table(["source", "status", "newest load", "age, hours"], fresh_rows, {3}) if fresh_rows
                 else notice("no source freshness in this build (no transform has judged it yet)"))  # fmt: skip
    mart_rows = [[name, f"{int(m.get('rows') or 0):,}", m.get("first_date"), m.get("last_date"), ", ".join(m.get("sources") or [])]
                 for name, m in sorted(marts.items())]  # fmt: skip
    marts_table = (
        _table(["mart", "rows", "first day", "last day", "source"], mart_rows, {1})
        if mart_rows
        else notice("this build published no marts (a Snowflake warehouse is read in place)")
    )

    tests = sorted(tests, key=lambda t: (SEVERITY.get(str(t.get("status")), 9), str(t.get("test"))))
    counts = Counter(str(t.get("status")) for t in tests)
    tests_note = ", ".join(
        f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: SEVERITY.get(kv[0], 9))
    )
    tests_note = (tests_note or "no test results in this build") + (
        " (dbt build of the last transform)" if tests else ""
    )

    if loads.empty:
        chart_out = not_drawn("no loads recorded in the ledger yet: run `smelt load --date …`", theme)
        manifests = notice("no manifests loaded yet")
    else:
        chart_out = drawn(figures.loads(loads, theme, "raw rows loaded per trading day"), source)
        per = loads.groupby("dataset").agg(manifests=("manifests", "sum"), rows=("rows", "sum"),
                                           first=("trade_date", "min"), last=("trade_date", "max")).reset_index()  # fmt: skip
        manifests = _table(["dataset", "manifests", "rows", "first day", "last day"],
                           [[r.dataset, f"{int(r.manifests):,}", f"{int(r.rows):,}", r.first, r.last]
                            for r in per.itertuples()], {1, 2})  # fmt: skip
    return (*chart_out, kpi_items, freshness, marts_table, tests, tests_note, manifests)


def register(app: Dash, q: Queries) -> None:
    app.callback(
        *chart_outputs(f"{PREFIX}-loads"),
        Output(f"{PREFIX}-kpis", "children"), Output(f"{PREFIX}-freshness", "children"),
        Output(f"{PREFIX}-marts", "children"), Output(f"{PREFIX}-tests", "rowData"),
        Output(f"{PREFIX}-tests-note", "children"), Output(f"{PREFIX}-manifests", "children"),
        Input("theme", "data"),
    )(lambda theme: quality_view(q, theme))  # fmt: skip
