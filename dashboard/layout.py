"""Building blocks every page shares: labelled controls, chart cards with their empty state, notices.

A chart callback returns :func:`drawn` or :func:`not_drawn` for the four outputs of :func:`chart_outputs`:
the figure, the note above it (why nothing is drawn, or what was refused), whether the graph is shown, and
the ``source`` of the rows it drew (the simulated-data banner reads those).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from dash import Output, dcc, html

from dashboard import figures

SOURCE_STORE = "shown-source"
HIDDEN = {"display": "none"}
GRAPH_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def control(label: str, component_id: str, component: Any, hint: str | None = None) -> html.Div:
    """A visible label naming the control, and a group the label names for assistive technology."""
    label_id = f"{component_id}-label"
    children: list[Any] = [
        html.Label(label, htmlFor=component_id, id=label_id, className="control-label"),
        component,
    ]
    if hint:
        children.append(html.Small(hint, className="control-hint"))
    return html.Div(children, className="control", role="group", **{"aria-labelledby": label_id})


def dropdown(component_id: str, options: Sequence[Any], value: Any, **kwargs: Any) -> dcc.Dropdown:
    return dcc.Dropdown(id=component_id, options=list(options), value=value, clearable=False, **kwargs)


def controls(*items: Any) -> html.Form:
    """The page's controls in one labelled bar (a form only for semantics: nothing is submitted)."""
    return html.Form(list(items), className="controls", **{"aria-label": "view controls"})


def chart(component_id: str, title: str) -> html.Section:
    return html.Section(
        [
            html.H2(title, className="card-title", id=f"{component_id}-title"),
            html.Div(id=f"{component_id}-note", className="note", role="status", **{"aria-live": "polite"}),
            dcc.Graph(id=component_id, config=GRAPH_CONFIG, style=HIDDEN, responsive=True),
            dcc.Store(id={"type": SOURCE_STORE, "chart": component_id}),
        ],
        className="card",
        **{"aria-labelledby": f"{component_id}-title"},
    )


def chart_outputs(component_id: str) -> list[Output]:
    return [
        Output(component_id, "figure"),
        Output(f"{component_id}-note", "children"),
        Output(component_id, "style"),
        Output({"type": SOURCE_STORE, "chart": component_id}, "data"),
    ]


def drawn(fig: figures.Figure, source: str | None, note: Any = None) -> tuple[Any, ...]:
    """A drawn chart; the graph's box gets the figure's height so the card grows with it."""
    return fig, note, {"height": f"{fig['layout']['height'] or 450}px"}, source


def not_drawn(message: Any, theme: str, kind: str = "empty") -> tuple[Any, ...]:
    """The empty (or refused) state: a message instead of a blank chart."""
    return figures.empty(theme), notice(message, kind), HIDDEN, None


def notice(message: Any, kind: str = "empty") -> html.P:
    """``kind``: empty (no data), refused (a bad input), error (the warehouse failed)."""
    return html.P(message, className=f"notice notice-{kind}")


def source_of(*frames: Any) -> str | None:
    """'simulator' if any shown row is simulated, else 'polygon' if any row is shown."""
    sources = set()
    for frame in frames:
        if frame is not None and not frame.empty and "source" in frame.columns:
            sources.update(str(s) for s in frame["source"].dropna().unique())
    if "simulator" in sources:
        return "simulator"
    return "polygon" if sources else None


def no_data(ticker: str, day: dt.date | None, what: str = "data") -> list[Any]:
    """'no data for AAPL on 2026-11-27: run `smelt run --start …`' (or why there cannot be any)."""
    from workflows import calendar

    if day is None:
        return [f"no {what} for {ticker}: run ", html.Code(f"smelt run --underlyings {ticker}")]
    if not calendar.is_trading_day(day):
        return [f"no {what} for {ticker} on {day}: it is not an NYSE trading day (weekend or holiday)"]
    return [
        f"no {what} for {ticker} on {day}: run ",
        html.Code(f"smelt run --start {day} --end {day} --underlyings {ticker}"),
    ]


def day_options(days: Sequence[dt.date], extra: dt.date | None = None) -> list[dict[str, str]]:
    """Trading days newest first; a requested day without data is listed too, marked, so the URL's view
    shows its empty state instead of silently jumping to another day."""
    options = [{"label": d.isoformat(), "value": d.isoformat()} for d in days]
    if extra is not None and extra not in days:
        options.insert(0, {"label": f"{extra.isoformat()} (no data)", "value": extra.isoformat()})
    return options
