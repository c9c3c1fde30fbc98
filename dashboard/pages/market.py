"""/market: candles with volume, SMA 20/50/200, Bollinger bands and the ATM-IV expected move."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from dash import Dash, Input, dcc, html

from dashboard import figures, inputs
from dashboard.layout import chart, chart_outputs, control, controls, drawn, no_data, not_drawn, source_of
from dashboard.pages.common import (
    RANGE_LABELS,
    RANGES,
    guarded,
    initial,
    register_days,
    short_history,
    ticker_day_controls,
)
from dashboard.queries import Queries

PATH, TITLE, PREFIX = "/market", "Market", "market"
PRICES = {"adjusted": True, "raw": False}
OVERLAYS = {
    "sma20": "SMA 20",
    "sma50": "SMA 50",
    "sma200": "SMA 200",
    "bollinger": "Bollinger",
    "move": "Expected move",
}
DEFAULT_OVERLAYS = ["sma20", "sma50", "sma200", "move"]
#: The windowed overlays: the column they draw and the daily closes it needs (NULL before).
WINDOWS = {"sma20": ("sma_20", 20), "sma50": ("sma_50", 50), "sma200": ("sma_200", 200),
           "bollinger": ("bollinger_upper", 20)}  # fmt: skip
#: URL key -> (component id, property): what the address bar records of this page.
STATE = {
    "ticker": (f"{PREFIX}-ticker", "value"), "date": (f"{PREFIX}-date", "value"), "range": (f"{PREFIX}-range", "value"),
    "adj": (f"{PREFIX}-adj", "value"), "overlays": (f"{PREFIX}-overlays", "value"),
}  # fmt: skip


def layout(q: Queries, params: Mapping[str, str]) -> html.Div:
    ticker, day, notes = initial(q, params, "stock")
    range_ = params.get("range") if params.get("range") in RANGES else "6m"
    adj = params.get("adj") if params.get("adj") in PRICES else "adjusted"
    overlays = [o for o in params.get("overlays", ",".join(DEFAULT_OVERLAYS)).split(",") if o in OVERLAYS]
    return html.Div([
        *notes,
        controls(
            *ticker_day_controls(q, PREFIX, ticker, day, "stock"),
            control("History", f"{PREFIX}-range", dcc.RadioItems(
                id=f"{PREFIX}-range", options=[{"label": v, "value": k} for k, v in RANGE_LABELS.items()],
                value=range_, inline=True)),
            control("Prices", f"{PREFIX}-adj", dcc.RadioItems(
                id=f"{PREFIX}-adj", options=[{"label": "split-adjusted", "value": "adjusted"},
                                              {"label": "as traded", "value": "raw"}], value=adj, inline=True)),
            control("Overlays", f"{PREFIX}-overlays", dcc.Checklist(
                id=f"{PREFIX}-overlays", options=[{"label": v, "value": k} for k, v in OVERLAYS.items()],
                value=overlays, inline=True)),
        ),
        chart(f"{PREFIX}-chart", "Price, volume and overlays"),
    ])  # fmt: skip


@guarded(1)
def market_chart(
    q: Queries, ticker: Any, day: Any, range_: Any, adj: Any, overlays: Any, theme: Any
) -> tuple[Any, ...]:
    ticker = inputs.ticker(ticker, q.underlyings())
    end = inputs.day(day, "trading day")
    days = inputs.choice(range_, RANGES, "history")
    adjusted = inputs.choice(adj, PRICES, "prices")
    shown = {inputs.choice(o, tuple(OVERLAYS), "overlay") for o in _list(overlays, "overlays")}
    start = end - dt.timedelta(days=days)
    bars = q.stock_history(ticker, start, end, adjusted)
    if bars.empty or bars["trade_date"].iloc[-1] != end:
        return not_drawn(no_data(ticker, end, "bars"), theme)
    iv = q.atm_iv_history(ticker, start, end) if "move" in shown else bars.iloc[0:0]
    basis = "split-adjusted" if adjusted else "as traded"
    fig = figures.market(bars, iv, theme, shown, f"{ticker} daily, {basis}")
    note = "; ".join([summary(bars, iv), *missing_overlays(q, ticker, end, bars, iv, shown)])
    return drawn(fig, source_of(bars, iv), note)


def missing_overlays(q: Queries, ticker: str, end: dt.date, bars: Any, iv: Any, shown: set[str]) -> list[str]:
    """Why a chosen overlay has nothing to draw: too short a history for its window, or no ATM IV."""
    short = {
        OVERLAYS[name]: window
        for name, (column, window) in WINDOWS.items()
        if name in shown and not bars[column].notna().any()
    }
    reasons = [short_history(q, ticker, end, short)] if short else []
    if "move" in shown and (iv.empty or not iv["atm_iv"].notna().any()):
        reasons.append(f"expected move not drawn: no ATM implied volatility for {ticker} up to {end}")
    return reasons


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise inputs.InputError(f"{what} {inputs.shown(value)} is not a list of options")
    return value


def summary(bars: Any, iv: Any) -> str:
    """One line under the chart's title: last close and change, ATM IV and the next day's expected move."""
    last = bars.iloc[-1]
    text = f"close {float(last['close']):,.2f}"
    if len(bars) > 1:
        prev = float(bars["close"].iloc[-2])
        text += f" ({(float(last['close']) / prev - 1):+.2%})"
    if not iv.empty and iv["trade_date"].iloc[-1] == last["trade_date"]:
        atm = float(iv["atm_iv"].iloc[-1])
        move = float(last["close"]) * atm * math.sqrt(1 / figures.TRADING_DAYS)
        text += f"; ATM IV {atm:.1%}, next-day expected move ±{move:,.2f}"
    return text


def register(app: Dash, q: Queries) -> None:
    register_days(app, q, PREFIX, "stock")
    app.callback(
        *chart_outputs(f"{PREFIX}-chart"),
        Input(f"{PREFIX}-ticker", "value"), Input(f"{PREFIX}-date", "value"), Input(f"{PREFIX}-range", "value"),
        Input(f"{PREFIX}-adj", "value"), Input(f"{PREFIX}-overlays", "value"), Input("theme", "data"),
    )(lambda *args: market_chart(q, *args))  # fmt: skip
