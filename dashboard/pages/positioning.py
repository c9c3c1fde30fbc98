"""/positioning: OI and volume by strike with the day-over-day change, gamma exposure by strike, put/call
ratios over time, and max pain per expiry with its history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

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
    ticker_day_controls,
)
from dashboard.queries import Queries

PATH, TITLE, PREFIX = "/positioning", "Positioning", "pos"
ALL_EXPIRIES = "all"
METRICS = {"oi": "open interest", "volume": "volume"}
BANDS = {"10": 0.10, "20": 0.20, "30": 0.30, "50": 0.50}
BAND_LABELS = {"10": "±10%", "20": "±20%", "30": "±30%", "50": "±50%"}
STATE = {
    "ticker": (f"{PREFIX}-ticker", "value"), "date": (f"{PREFIX}-date", "value"),
    "expiry": (f"{PREFIX}-expiry", "value"), "metric": (f"{PREFIX}-metric", "value"),
    "band": (f"{PREFIX}-band", "value"), "range": (f"{PREFIX}-range", "value"),
}  # fmt: skip


def _expiry_options(q: Queries, ticker: str, day: dt.date | None) -> list[dict[str, str]]:
    listed = expiry_options(q, ticker, day) if ticker and day else []
    return [{"label": "all expiries", "value": ALL_EXPIRIES}, *listed]


def layout(q: Queries, params: Mapping[str, str]) -> html.Div:
    ticker, day, notes = initial(q, params)
    options = _expiry_options(q, ticker, day)
    expiry = (
        params.get("expiry") if any(o["value"] == params.get("expiry") for o in options) else ALL_EXPIRIES
    )
    metric = params.get("metric") if params.get("metric") in METRICS else "oi"
    band = params.get("band") if params.get("band") in BANDS else "20"
    range_ = params.get("range") if params.get("range") in RANGES else "6m"
    return html.Div([
        *notes,
        controls(
            *ticker_day_controls(q, PREFIX, ticker, day, "option"),
            control("Expiry", f"{PREFIX}-expiry", dropdown(f"{PREFIX}-expiry", options, expiry)),
            control("By strike", f"{PREFIX}-metric", dcc.RadioItems(
                id=f"{PREFIX}-metric", options=[{"label": v, "value": k} for k, v in METRICS.items()], value=metric,
                inline=True)),
            control("Strikes", f"{PREFIX}-band", dcc.RadioItems(
                id=f"{PREFIX}-band", options=[{"label": v, "value": k} for k, v in BAND_LABELS.items()], value=band,
                inline=True)),
            control("History", f"{PREFIX}-range", dropdown(
                f"{PREFIX}-range", [{"label": v, "value": k} for k, v in RANGE_LABELS.items()], range_)),
        ),
        html.Div([chart(f"{PREFIX}-oi", "Open interest and volume by strike"),
                  chart(f"{PREFIX}-gex", "Gamma exposure by strike")], className="grid-2"),
        html.Div([chart(f"{PREFIX}-pcr", "Put/call ratios"), chart(f"{PREFIX}-maxpain", "Max pain")],
                 className="grid-2"),
    ])  # fmt: skip


def no_open_interest(day: Any) -> str:
    """Why a day has no open interest: only the chain snapshot carries it, and only for the latest session."""
    return (
        f"no open interest on {str(day)[:10]}: that day came through the backfill path, and Polygon keeps no "
        "open interest for past days (a daily run lands it from the evening's chain snapshot)"
    )


def _has_oi(df: Any, *columns: str) -> bool:
    return bool(df[list(columns)].notna().any().any())


def _inputs(q: Queries, ticker: Any, day: Any, expiry: Any) -> tuple[str, dt.date, dt.date | None]:
    ticker = inputs.ticker(ticker, q.underlyings())
    day = inputs.day(day, "trading day")
    if expiry in (None, "", ALL_EXPIRIES):
        return ticker, day, None
    chosen = inputs.day(expiry, "expiry")
    if chosen not in {dt.date.fromisoformat(o["value"]) for o in expiry_options(q, ticker, day)}:
        raise InputError(f"expiry {chosen} is not listed for {ticker} on {day}")
    return ticker, day, chosen


def expiry_choices(q: Queries, ticker: Any, day: Any, current: Any) -> tuple[Any, Any]:
    try:
        ticker = inputs.ticker(ticker, q.underlyings())
        day = inputs.day(day)
    except InputError:
        return [{"label": "all expiries", "value": ALL_EXPIRIES}], ALL_EXPIRIES
    options = _expiry_options(q, ticker, day)
    return options, current if any(o["value"] == current for o in options) else ALL_EXPIRIES


@guarded(2)
def strike_charts(
    q: Queries, ticker: Any, day: Any, expiry: Any, metric: Any, band: Any, theme: Any
) -> tuple[Any, ...]:
    ticker, day, chosen = _inputs(q, ticker, day, expiry)
    metric = inputs.choice(metric, tuple(METRICS), "by strike")
    width = inputs.choice(band, BANDS, "strikes")
    df = q.oi_by_strike(ticker, day, chosen, width)
    if df.empty:
        return not_drawn(no_data(ticker, day, "open interest"), theme) * 2
    scope = f"expiry {chosen}" if chosen else "all expiries"
    oi_note = _strike_note(df, day, metric)
    oi = figures.oi_by_strike(df, theme, f"{ticker} {METRICS[metric]} by strike, {scope}, {day}", metric)
    source = source_of(df)
    if df["net_gex"].notna().any():
        gex = figures.gamma_exposure(df, theme, f"{ticker} net gamma exposure, {scope}, {day}")
        gex_note = f"net gamma exposure {float(df['net_gex'].sum()) / 1e6:,.1f}M $ per 1% move"
    elif df["volume_gex"].notna().any():  # a backfilled day: Polygon has no historical open interest
        gex = figures.gamma_exposure(
            df, theme, f"{ticker} gamma traded (volume proxy), {scope}, {day}", "volume_gex"
        )
        gex_note = (
            f"no open interest on {day} (Polygon keeps none for past days): gamma x volume instead, "
            f"net {float(df['volume_gex'].sum()) / 1e6:,.1f}M $ per 1% move"
        )
    else:
        return (
            *drawn(oi, source, oi_note),
            *not_drawn(
                f"no gamma for {ticker} on {day}: no open interest and no traded volume with Greeks", theme
            ),
        )
    return (*drawn(oi, source, oi_note), *drawn(gex, source, gex_note))


def _strike_note(df: Any, day: dt.date, metric: str) -> str:
    """What the strike chart shows, or why its open interest or its change panel is empty."""
    if metric == "oi" and not _has_oi(df, "call_oi", "put_oi"):
        return f"{no_open_interest(day)}; 'volume' shows the day's traded volume by strike"
    previous = df["previous_day"].iloc[0]
    if previous is None or previous != previous:
        return "calls up, puts down; lower panel: no earlier day in the marts to change from"
    if metric == "oi" and not _has_oi(df, "call_oi_change", "put_oi_change"):
        return f"calls up, puts down; lower panel empty, {no_open_interest(previous)}"
    return f"calls up, puts down; lower panel: change since {str(previous)[:10]}"


@guarded(2)
def history_charts(q: Queries, ticker: Any, day: Any, range_: Any, theme: Any) -> tuple[Any, ...]:
    ticker = inputs.ticker(ticker, q.underlyings())
    day = inputs.day(day, "trading day")
    days = inputs.choice(range_, RANGES, "history")
    history = q.positioning_history(ticker, day - dt.timedelta(days=days), day)
    expiries = q.max_pain(ticker, day)
    if history.empty or history["trade_date"].iloc[-1] != day:
        return not_drawn(no_data(ticker, day, "positioning"), theme) * 2
    last = history.iloc[-1]
    pcr_note = (f"put/call by volume {_ratio(last['put_call_volume_ratio'])}, "
                f"by open interest {_ratio(last['put_call_open_interest_ratio'])} on {day}")  # fmt: skip
    pcr = figures.put_call_ratios(history, theme, f"{ticker} put/call ratios")
    pain = figures.max_pain(expiries, history, theme, f"{ticker} max pain")
    nearest = last["nearest_expiry_max_pain_strike"]
    pain_note = (
        f"nearest expiry {str(last['nearest_expiration_date'])[:10]}: max pain {float(nearest):,.2f}"
        if _present(nearest)
        else f"no max pain on {day}"
    )
    gaps = _oi_gaps(history, day)
    return (
        *drawn(pcr, source_of(history), f"{pcr_note}{gaps}"),
        *drawn(pain, source_of(history, expiries), f"{pain_note}{gaps}"),
    )


def _oi_gaps(history: Any, day: dt.date) -> str:
    """Why the open-interest series (put/call by open interest, max pain) miss days, if they do."""
    held = history["total_open_interest"].fillna(0) > 0  # the mart counts a day without any as 0
    if held.all():
        return ""
    if not held.iloc[-1]:
        return f"; {no_open_interest(day)}"
    return (
        f"; open interest on {int(held.sum())} of {len(held)} days shown, the others came through the backfill "
        "path (Polygon keeps no open interest for past days; a daily run lands it each evening)"
    )


def _present(value: Any) -> bool:
    return value is not None and value == value


def _ratio(value: Any) -> str:
    """A ratio, or n/a: a backfilled day has no open interest (the note says so), a day without calls no ratio."""
    return f"{float(value):.2f}" if _present(value) else "n/a"


def register(app: Dash, q: Queries) -> None:
    register_days(app, q, PREFIX)
    t, d = Input(f"{PREFIX}-ticker", "value"), Input(f"{PREFIX}-date", "value")
    theme = Input("theme", "data")
    app.callback(Output(f"{PREFIX}-expiry", "options"), Output(f"{PREFIX}-expiry", "value"), t, d,
                 State(f"{PREFIX}-expiry", "value"), prevent_initial_call=True)(
        lambda *a: expiry_choices(q, *a))  # fmt: skip
    app.callback(
        *chart_outputs(f"{PREFIX}-oi"), *chart_outputs(f"{PREFIX}-gex"),
        t, d, Input(f"{PREFIX}-expiry", "value"), Input(f"{PREFIX}-metric", "value"), Input(f"{PREFIX}-band", "value"),
        theme,
    )(lambda *a: strike_charts(q, *a))  # fmt: skip
    app.callback(
        *chart_outputs(f"{PREFIX}-pcr"), *chart_outputs(f"{PREFIX}-maxpain"),
        t, d, Input(f"{PREFIX}-range", "value"), theme,
    )(lambda *a: history_charts(q, *a))  # fmt: skip
