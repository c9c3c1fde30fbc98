"""/volatility: smiles for chosen expiries, the term structure, the IV surface (heatmap, or 3-D on request),
and realized against implied volatility with IV rank and percentile."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd
from dash import Dash, Input, Output, State, dcc, html

from dashboard import figures, inputs
from dashboard.inputs import InputError
from dashboard.layout import (
    chart,
    chart_outputs,
    control,
    controls,
    drawn,
    dropdown,
    no_data,
    not_drawn,
    source_of,
)
from dashboard.pages.common import (
    RANGE_LABELS,
    RANGES,
    expiry_options,
    guarded,
    initial,
    register_days,
    short_history,
    ticker_day_controls,
)
from dashboard.queries import Queries

PATH, TITLE, PREFIX = "/volatility", "Volatility", "vol"
MAX_EXPIRIES = 6
VIEWS = {"heatmap": "heatmap", "3d": "3-D surface"}
SURFACE_MONEYNESS = 0.3
STATE = {
    "ticker": (f"{PREFIX}-ticker", "value"), "date": (f"{PREFIX}-date", "value"),
    "expiries": (f"{PREFIX}-expiries", "value"), "view": (f"{PREFIX}-view", "value"),
    "range": (f"{PREFIX}-range", "value"),
}  # fmt: skip


def default_expiries(options: list[dict[str, str]]) -> list[str]:
    """Up to four expiries spread over the listed ones: the front, ~30, ~90 and ~180 days out."""
    if not options:
        return []
    days = [int(o["label"].rsplit("(", 1)[1].rstrip("d)")) for o in options]
    chosen: list[str] = []
    for target in (7, 30, 90, 180):
        best = min(range(len(options)), key=lambda i: abs(days[i] - target))
        if options[best]["value"] not in chosen:
            chosen.append(options[best]["value"])
    return chosen


def layout(q: Queries, params: Mapping[str, str]) -> html.Div:
    ticker, day, notes = initial(q, params)
    options = expiry_options(q, ticker, day) if ticker and day else []
    listed = {o["value"] for o in options}
    wanted = [e for e in params.get("expiries", "").split(",") if e in listed][:MAX_EXPIRIES]
    view = params.get("view") if params.get("view") in VIEWS else "heatmap"
    range_ = params.get("range") if params.get("range") in RANGES else "1y"
    return html.Div([
        *notes,
        controls(
            *ticker_day_controls(q, PREFIX, ticker, day, "option"),
            control(f"Smile expiries (up to {MAX_EXPIRIES})", f"{PREFIX}-expiries",
                    dropdown(f"{PREFIX}-expiries", options, wanted or default_expiries(options), multi=True,
                             style={"minWidth": "320px"})),
            control("Surface", f"{PREFIX}-view", dcc.RadioItems(
                id=f"{PREFIX}-view", options=[{"label": v, "value": k} for k, v in VIEWS.items()], value=view,
                inline=True)),
            control("History", f"{PREFIX}-range", dropdown(
                f"{PREFIX}-range", [{"label": v, "value": k} for k, v in RANGE_LABELS.items()], range_)),
        ),
        html.Div([chart(f"{PREFIX}-smile", "Smile by expiry"), chart(f"{PREFIX}-term", "Term structure")],
                 className="grid-2"),
        html.Div([chart(f"{PREFIX}-surface", "Implied volatility surface"),
                  chart(f"{PREFIX}-rv", "Realized vs implied")], className="grid-2"),
    ])  # fmt: skip


def _ticker_day(q: Queries, ticker: Any, day: Any) -> tuple[str, dt.date]:
    return inputs.ticker(ticker, q.underlyings()), inputs.day(day, "trading day")


def _listed(q: Queries, ticker: str, day: dt.date) -> set[dt.date]:
    return {dt.date.fromisoformat(o["value"]) for o in expiry_options(q, ticker, day)}


def expiry_choices(q: Queries, ticker: Any, day: Any, current: Any) -> tuple[Any, Any]:
    try:
        ticker, day = _ticker_day(q, ticker, day)
    except InputError:
        return [], []
    options = expiry_options(q, ticker, day)
    listed = {o["value"] for o in options}
    kept = [e for e in (current or []) if isinstance(e, str) and e in listed]
    return options, kept or default_expiries(options)


@guarded()
def smile_chart(q: Queries, ticker: Any, day: Any, expiries: Any, theme: Any) -> tuple[Any, ...]:
    ticker, day = _ticker_day(q, ticker, day)
    chosen = inputs.days_in(expiries, _listed(q, ticker, day), "expiry", MAX_EXPIRIES)
    if not chosen:
        return not_drawn(no_data(ticker, day, "option expiries"), theme)
    df = q.smiles(ticker, day, chosen)
    if df.empty:
        return not_drawn(no_data(ticker, day, "implied volatility"), theme)
    return drawn(figures.smiles(df, theme, f"{ticker} IV smile on {day}"), source_of(df))


@guarded()
def term_chart(q: Queries, ticker: Any, day: Any, theme: Any) -> tuple[Any, ...]:
    ticker, day = _ticker_day(q, ticker, day)
    df = q.term_structure(ticker, day)
    if df.empty:
        return not_drawn(no_data(ticker, day, "implied volatility"), theme)
    return drawn(figures.term_structure(df, theme, f"{ticker} ATM IV by expiry on {day}"), source_of(df))


@guarded()
def surface_chart(q: Queries, ticker: Any, day: Any, view: Any, theme: Any) -> tuple[Any, ...]:
    ticker, day = _ticker_day(q, ticker, day)
    view = inputs.choice(view, tuple(VIEWS), "surface view")
    df = q.surface(ticker, day, SURFACE_MONEYNESS)
    if df.empty:
        return not_drawn(no_data(ticker, day, "implied volatility"), theme)
    return drawn(
        figures.surface(df, theme, f"{ticker} IV by expiry and moneyness on {day}", view), source_of(df)
    )


@guarded()
def rv_chart(q: Queries, ticker: Any, day: Any, range_: Any, theme: Any) -> tuple[Any, ...]:
    ticker, day = _ticker_day(q, ticker, day)
    days = inputs.choice(range_, RANGES, "history")
    df = q.realized_vs_implied(ticker, day - dt.timedelta(days=days), day)
    if df.empty or df["trade_date"].iloc[-1] != day:
        return not_drawn(no_data(ticker, day, "implied volatility"), theme)
    last = df.iloc[-1]
    note = f"ATM IV {float(last['atm_iv']):.1%}"
    window = int(last["window_days"])
    if pd.notna(last["iv_rank"]) and pd.notna(last["iv_percentile"]):
        note += (f"; IV rank {float(last['iv_rank']):.0%}, IV percentile {float(last['iv_percentile']):.0%}"
                 f" over {window} trading days")  # fmt: skip
    else:  # dbt ranks a day once enough history exists (and the window is not flat)
        note += f"; IV rank needs more history than {window} trading day(s)"
    if not df["realized_volatility_20d"].notna().any():  # 20 daily returns: 21 closes
        note += "; " + short_history(q, ticker, day, {"realized volatility (20d)": 21})
    return drawn(
        figures.realized_vs_implied(df, theme, f"{ticker} ATM IV vs 20-day realized"), source_of(df), note
    )


def register(app: Dash, q: Queries) -> None:
    register_days(app, q, PREFIX)
    t, d = Input(f"{PREFIX}-ticker", "value"), Input(f"{PREFIX}-date", "value")
    theme = Input("theme", "data")
    app.callback(Output(f"{PREFIX}-expiries", "options"), Output(f"{PREFIX}-expiries", "value"), t, d,
                 State(f"{PREFIX}-expiries", "value"), prevent_initial_call=True)(
        lambda *a: expiry_choices(q, *a))  # fmt: skip
    app.callback(*chart_outputs(f"{PREFIX}-smile"), t, d, Input(f"{PREFIX}-expiries", "value"), theme)(
        lambda *a: smile_chart(q, *a))  # fmt: skip
    app.callback(*chart_outputs(f"{PREFIX}-term"), t, d, theme)(lambda *a: term_chart(q, *a))
    app.callback(*chart_outputs(f"{PREFIX}-surface"), t, d, Input(f"{PREFIX}-view", "value"), theme)(
        lambda *a: surface_chart(q, *a))  # fmt: skip
    app.callback(*chart_outputs(f"{PREFIX}-rv"), t, d, Input(f"{PREFIX}-range", "value"), theme)(
        lambda *a: rv_chart(q, *a))  # fmt: skip
