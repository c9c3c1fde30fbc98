"""Plotly figures, as pure functions of query results and the theme: no data access, no Dash.

Every figure is written out as plain dicts (``figure``) instead of being built from plotly's graph objects,
whose property-by-property validation was most of a chart callback's CPU (decisions 106 and 117);
tests/dashboard/test_figures.py holds each builder to the JSON plotly's own build gives. Every trace is SVG
(no ``*gl`` types: WebGL's shader compiler needs ``unsafe-eval``, which the dashboard's Content-Security-Policy
does not allow); the 3-D surface is the one exception, drawn only when asked for. Figures carry only what they
draw: numbers are rounded and dates are ISO strings.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.colors

from dashboard.payoff import Payoff
from dashboard.theme import SERIES, palette, template_json

TRADING_DAYS = 252
_VIRIDIS = plotly.colors.sequential.Viridis
#: plotly's "Viridis" as its validator spells a named scale out (plotly.js's own "Viridis" has other colours).
VIRIDIS = [[i / (len(_VIRIDIS) - 1), colour] for i, colour in enumerate(_VIRIDIS)]

Trace = dict[str, Any]
#: A figure as Dash sends it: ``{"data": [trace, …], "layout": {…}}``, plain JSON types only.
Figure = dict[str, Any]


def figure(data: list[Trace], theme: str, title: str, height: int, **layout: Any) -> Figure:
    """A figure as plain dicts, not validated property by property: plotly's graph objects spent 5-45 ms of
    CPU per figure setting and checking each property, most of a chart callback's cost, and an unvalidated
    ``go.Figure`` still cost a deep copy and a walk of every value each time Dash sent it, where plain JSON
    types go to orjson as they are (decisions 106, 117). ``layout`` is the rest of the layout as plotly
    writes it out (axes, ``shapes``, ``annotations``). Only for figures whose every key is covered by a test
    comparing them with plotly's own build."""
    return {"data": data, "layout": {"template": template_json(theme), "title": {"text": title}, "height": height,
                                     **layout}}  # fmt: skip


def axis(title: str | None = None, **props: Any) -> dict[str, Any]:
    """An axis as plotly writes ``xaxis_title=…`` (and the other ``xaxis_*`` keywords) out."""
    return {"title": {"text": title}, **props} if title is not None else props


def vline(x: float, line: dict[str, Any], xref: str = "x", yref: str = "y") -> dict[str, Any]:
    """A line over the whole height of one subplot, as ``fig.add_vline`` writes it out."""
    return {"type": "line", "x0": x, "x1": x, "xref": xref, "y0": 0, "y1": 1, "yref": f"{yref} domain",
            "line": line}  # fmt: skip


def hline(y: float, line: dict[str, Any], xref: str = "x", yref: str = "y") -> dict[str, Any]:
    """A line over the whole width of one subplot, as ``fig.add_hline`` writes it out."""
    return {"type": "line", "x0": 0, "x1": 1, "xref": f"{xref} domain", "y0": y, "y1": y, "yref": yref,
            "line": line}  # fmt: skip


def top_label(x: float, text: str) -> dict[str, Any]:
    """The label ``add_vline(annotation_text=…)`` puts at the top of its line, on the right."""
    return {"showarrow": False, "text": text, "x": x, "xanchor": "left", "xref": "x", "y": 1, "yanchor": "top",
            "yref": "y domain"}  # fmt: skip


def empty(theme: str) -> Figure:
    """A figure with nothing drawn and no axes: the page shows the reason beside it."""
    return figure([], theme, "", 120, xaxis={"visible": False}, yaxis={"visible": False})


def _dates(values: pd.Series) -> list[str]:
    return [str(v)[:10] for v in values]


def _r(values: pd.Series | np.ndarray, digits: int = 4) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        f = float(v) if v is not None else math.nan
        out.append(round(f, digits) if math.isfinite(f) else None)
    return out


def _hidden_days(days: list[str]) -> list[str]:
    """Weekdays between the first and last day with no bar (holidays): hidden with weekends by rangebreaks."""
    if not days:
        return []
    have = set(days)
    first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
    out = []
    d = first
    while d <= last:
        if d.weekday() < 5 and d.isoformat() not in have:
            out.append(d.isoformat())
        d += dt.timedelta(days=1)
    return out


def _breaks(days: list[str]) -> list[dict[str, Any]]:
    """A daily axis's gaps: weekends, and the weekdays without a bar."""
    return [{"bounds": ["sat", "mon"]}, {"values": _hidden_days(days)}]


def _axes(geometry: dict[str, dict[str, Any]], **titles: str) -> dict[str, dict[str, Any]]:
    """A copy of a subplot ``geometry`` with the given axes titled (``yaxis2="change"``)."""
    out = {name: dict(props) for name, props in geometry.items()}
    for name, title in titles.items():
        out[name]["title"] = {"text": title}
    return out


# --------------------------------------------------------------------------------------------- /market


#: The market chart's two rows (price over volume) as ``make_subplots(rows=2, shared_xaxes=True,
#: row_heights=[0.76, 0.24], vertical_spacing=0.03)`` lays them out (its floats, to the last digit).
MARKET_AXES = {
    "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "matches": "x2", "showticklabels": False},
    "yaxis": {"anchor": "x", "domain": [0.2628, 1.0]},
    "xaxis2": {"anchor": "y2", "domain": [0.0, 1.0]},
    "yaxis2": {"anchor": "x2", "domain": [0.0, 0.23279999999999998]},
}


def expected_move(bars: pd.DataFrame, iv: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The one-sigma band priced for each day the evening before: the previous close times
    (1 +/- its ATM IV x sqrt(1/252))."""
    merged = bars[["trade_date", "close"]].merge(iv[["trade_date", "atm_iv"]], on="trade_date", how="left")
    close = merged["close"].astype(float)
    move = close * merged["atm_iv"].astype(float) * math.sqrt(1 / TRADING_DAYS)
    return (close + move).shift(1), (close - move).shift(1)


def market(bars: pd.DataFrame, iv: pd.DataFrame, theme: str, overlays: set[str], title: str) -> Figure:
    """Candles with volume, SMA 20/50/200, Bollinger bands and the one-day expected move from ATM IV.

    The expected-move band on day D is the previous close times (1 +/- ATM IV x sqrt(1/252)): the one-sigma
    range the options market priced for D the evening before.
    """
    p = palette(theme)
    days = _dates(bars["trade_date"])
    price = {"x": days, "xaxis": "x", "yaxis": "y"}
    data: list[Trace] = []
    if "move" in overlays and not iv.empty:
        upper, lower = expected_move(bars, iv)
        data.append({"type": "scatter", **price, "y": _r(upper, 2), "mode": "lines", "line": {"width": 0},
                     "hoverinfo": "skip", "showlegend": False, "legendgroup": "move"})  # fmt: skip
        data.append({"type": "scatter", **price, "y": _r(lower, 2), "mode": "lines", "line": {"width": 0},
                     "fill": "tonexty", "fillcolor": p["move"], "name": "expected move (ATM IV)",
                     "legendgroup": "move"})  # fmt: skip
    if "bollinger" in overlays:
        data.append({"type": "scatter", **price, "y": _r(bars["bollinger_upper"], 2), "mode": "lines",
                     "hoverinfo": "skip", "line": {"width": 1, "color": p["line"]}, "showlegend": False,
                     "legendgroup": "bb"})  # fmt: skip
        data.append({"type": "scatter", **price, "y": _r(bars["bollinger_lower"], 2), "mode": "lines",
                     "fill": "tonexty", "fillcolor": p["band"], "line": {"width": 1, "color": p["line"]},
                     "name": "Bollinger (20, 2 sd)", "legendgroup": "bb"})  # fmt: skip
    data.append({
        "type": "candlestick", **price, "open": _r(bars["open"], 2), "high": _r(bars["high"], 2),
        "low": _r(bars["low"], 2), "close": _r(bars["close"], 2), "name": "price",
        "increasing": {"line": {"color": p["up"]}, "fillcolor": p["up"]},
        "decreasing": {"line": {"color": p["down"]}, "fillcolor": p["down"]},
    })  # fmt: skip
    for i, n in enumerate((20, 50, 200)):
        if f"sma{n}" in overlays and bars[f"sma_{n}"].notna().any():
            data.append({"type": "scatter", **price, "y": _r(bars[f"sma_{n}"], 2), "mode": "lines",
                         "name": f"SMA {n}", "line": {"width": 1.4, "color": SERIES[i + 3]}})  # fmt: skip
    up = bars["close"].astype(float) >= bars["open"].astype(float)
    data.append({"type": "bar", "x": days, "y": _r(bars["volume"], 0), "name": "volume", "showlegend": False,
                 "marker": {"color": [p["up"] if u else p["down"] for u in up]}, "xaxis": "x2", "yaxis": "y2"})  # fmt: skip
    breaks = _breaks(days)
    axes = _axes(MARKET_AXES, yaxis="price", yaxis2="volume")
    axes["xaxis"].update(rangeslider={"visible": False}, rangebreaks=breaks)
    axes["xaxis2"]["rangebreaks"] = breaks
    return figure(data, theme, title, 560, hovermode="x unified", **axes)


# --------------------------------------------------------------------------------------------- /volatility


def smiles(df: pd.DataFrame, theme: str, title: str) -> Figure:
    data = [
        {"type": "scatter", "x": _r(group["strike_price"], 2), "y": _r(group["implied_volatility"]),
         "mode": "lines+markers", "name": f"{str(expiry)[:10]} ({int(group['days_to_expiry'].iloc[0])}d)",
         "line": {"color": SERIES[i % len(SERIES)]}, "marker": {"size": 5}}
        for i, (expiry, group) in enumerate(df.groupby("expiration_date", sort=True))
    ]  # fmt: skip
    spot = float(df["underlying_price"].iloc[0])
    return figure(data, theme, title, 420, xaxis=axis("strike"),
                  yaxis=axis("implied volatility", tickformat=".0%"), hovermode="closest",
                  shapes=[vline(spot, {"dash": "dot", "color": palette(theme)["muted"]})],
                  annotations=[top_label(spot, "spot")])  # fmt: skip


def term_structure(df: pd.DataFrame, theme: str, title: str) -> Figure:
    trace = {"type": "scatter", "x": [int(d) for d in df["days_to_expiry"]], "y": _r(df["atm_iv"]),
             "mode": "lines+markers", "text": _dates(df["expiration_date"]), "name": "ATM IV",
             "hovertemplate": "%{text}: %{y:.1%}<extra></extra>", "line": {"color": palette(theme)["accent"]}}  # fmt: skip
    return figure([trace], theme, title, 320, xaxis=axis("days to expiry"),
                  yaxis=axis("ATM implied volatility", tickformat=".0%"))  # fmt: skip


def surface(df: pd.DataFrame, theme: str, title: str, view: str) -> Figure:
    """IV by expiry and log-moneyness bin: a heatmap, or a 3-D surface on request."""
    grid = df.pivot_table(index="log_moneyness_bin", columns="days_to_expiry", values="implied_volatility")
    x = [int(c) for c in grid.columns]
    y = [round(float(i), 4) for i in grid.index]
    z = [[None if not math.isfinite(v) else round(float(v), 4) for v in row] for row in grid.to_numpy()]
    colours = {"colorscale": VIRIDIS, "colorbar": {"title": {"text": "IV"}, "tickformat": ".0%"}}
    if view == "3d":
        scene = {"xaxis": axis("days to expiry"), "yaxis": axis("ln(S/K)"), "zaxis": axis("IV")}
        return figure(
            [{"type": "surface", "x": x, "y": y, "z": z, **colours}], theme, title, 520, scene=scene
        )
    heatmap = {"type": "heatmap", "x": x, "y": y, "z": z, **colours, "hoverongaps": False,
               "hovertemplate": "%{x}d, ln(S/K) %{y}: %{z:.1%}<extra></extra>"}  # fmt: skip
    return figure([heatmap], theme, title, 420, xaxis=axis("days to expiry", type="category"),
                  yaxis=axis("log-moneyness ln(S/K)"))  # fmt: skip


def realized_vs_implied(df: pd.DataFrame, theme: str, title: str) -> Figure:
    return _two_series(df, theme, title, ("atm_iv", "implied (ATM, 30d)"),
                       ("realized_volatility_20d", "realized (20d)"), 380, axis(tickformat=".0%"))  # fmt: skip


def _two_series(
    df: pd.DataFrame, theme: str, title: str, first: tuple[str, str], second: tuple[str, str], height: int,
    yaxis: dict[str, Any],
) -> Figure:  # fmt: skip
    """Two daily series (column, name) on one axis, weekends and holidays hidden."""
    p = palette(theme)
    days = _dates(df["trade_date"])
    data = [
        {"type": "scatter", "x": days, "y": _r(df[column]), "name": name, "line": {"color": colour}}
        for (column, name), colour in ((first, p["accent"]), (second, p["put"]))
    ]
    return figure(data, theme, title, height, hovermode="x unified", yaxis=yaxis,
                  xaxis={"rangebreaks": _breaks(days)})  # fmt: skip


# --------------------------------------------------------------------------------------------- /positioning

#: The strike chart's two rows (the day over its change) as ``make_subplots(rows=2, shared_xaxes=True,
#: row_heights=[0.65, 0.35], vertical_spacing=0.06)`` lays them out.
STRIKE_AXES = {
    "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "matches": "x2", "showticklabels": False},
    "yaxis": {"anchor": "x", "domain": [0.38899999999999996, 1.0]},
    "xaxis2": {"anchor": "y2", "domain": [0.0, 1.0]},
    "yaxis2": {"anchor": "x2", "domain": [0.0, 0.32899999999999996]},
}
#: The max-pain chart's two panels side by side, as ``make_subplots(rows=1, cols=2, horizontal_spacing=0.1)``.
MAX_PAIN_AXES = {
    "xaxis": {"anchor": "y", "domain": [0.0, 0.45]},
    "yaxis": {"anchor": "x", "domain": [0.0, 1.0]},
    "xaxis2": {"anchor": "y2", "domain": [0.55, 1.0]},
    "yaxis2": {"anchor": "x2", "domain": [0.0, 1.0]},
}


def oi_by_strike(df: pd.DataFrame, theme: str, title: str, metric: str) -> Figure:
    """Calls up, puts down, per strike; the lower panel is the change since the previous trading day."""
    p = palette(theme)
    strikes = _r(df["strike_price"], 2)
    call, put = ("call_oi", "put_oi") if metric == "oi" else ("call_volume", "put_volume")
    top, bottom = {"x": strikes, "xaxis": "x", "yaxis": "y"}, {"x": strikes, "xaxis": "x2", "yaxis": "y2"}
    data = [
        {"type": "bar", **top, "y": _r(df[call], 0), "name": "calls", "marker": {"color": p["call"]}},
        {
            "type": "bar",
            **top,
            "y": _r(-df[put].astype(float), 0),
            "name": "puts",
            "marker": {"color": p["put"]},
        },
    ]
    spot, line = float(df["underlying_price"].iloc[0]), {"dash": "dot", "color": p["muted"]}
    shapes = [vline(spot, line)]  # add_vline draws one per subplot holding a trace
    titles = {"yaxis": "open interest" if metric == "oi" else "volume", "xaxis2": "strike"}
    if metric == "oi":
        data.append({"type": "bar", **bottom, "y": _r(df["call_oi_change"], 0), "name": "call OI change",
                     "showlegend": False, "marker": {"color": p["call"], "opacity": 0.6}})  # fmt: skip
        data.append({"type": "bar", **bottom, "y": _r(-df["put_oi_change"].astype(float), 0),
                     "name": "put OI change", "showlegend": False, "marker": {"color": p["put"], "opacity": 0.6}})  # fmt: skip
        shapes.append(vline(spot, line, "x2", "y2"))
        titles["yaxis2"] = "change"
    return figure(data, theme, title, 520, barmode="relative", hovermode="x unified", shapes=shapes,
                  **_axes(STRIKE_AXES, **titles))  # fmt: skip


def gamma_exposure(df: pd.DataFrame, theme: str, title: str, column: str = "net_gex") -> Figure:
    """Net gamma exposure by strike; ``column`` is ``volume_gex`` for the volume proxy (no open interest)."""
    p = palette(theme)
    gex = df[column].astype(float).fillna(0.0)
    trace = {"type": "bar", "x": _r(df["strike_price"], 2), "y": _r(gex, 0),
             "name": "net GEX" if column == "net_gex" else "volume GEX",
             "marker": {"color": [p["call"] if g >= 0 else p["put"] for g in gex]}}  # fmt: skip
    spot = float(df["underlying_price"].iloc[0])
    return figure([trace], theme, title, 360, xaxis=axis("strike"), yaxis=axis("$ gamma per 1% move"),
                  shapes=[vline(spot, {"dash": "dot", "color": p["muted"]})],
                  annotations=[top_label(spot, "spot")])  # fmt: skip


def put_call_ratios(df: pd.DataFrame, theme: str, title: str) -> Figure:
    return _two_series(df, theme, title, ("put_call_volume_ratio", "by volume"),
                       ("put_call_open_interest_ratio", "by open interest"), 340, axis("puts / calls"))  # fmt: skip


def max_pain(expiries: pd.DataFrame, history: pd.DataFrame, theme: str, title: str) -> Figure:
    """Left: max pain per expiry on the day, against spot. Right: the nearest expiry's max pain over time."""
    p = palette(theme)
    data: list[Trace] = []
    shapes: list[dict[str, Any]] = []
    if not expiries.empty:
        data.append({"type": "scatter", "x": _dates(expiries["expiration_date"]),
                     "y": _r(expiries["max_pain_strike"], 2), "mode": "markers+lines", "name": "max pain by expiry",
                     "line": {"color": p["put"]}, "xaxis": "x", "yaxis": "y"})  # fmt: skip
        shapes.append(
            hline(float(expiries["underlying_price"].iloc[0]), {"dash": "dot", "color": p["muted"]})
        )
    if not history.empty:
        right = {"x": _dates(history["trade_date"]), "xaxis": "x2", "yaxis": "y2"}
        data.append({"type": "scatter", **right, "y": _r(history["underlying_price"], 2), "name": "underlying",
                     "line": {"color": p["accent"]}})  # fmt: skip
        data.append({"type": "scatter", **right, "y": _r(history["nearest_expiry_max_pain_strike"], 2),
                     "name": "max pain, nearest expiry", "line": {"color": SERIES[3], "shape": "hv"}})  # fmt: skip
    more = {"shapes": shapes} if shapes else {}
    return figure(data, theme, title, 360, hovermode="x unified", **more, **_axes(MAX_PAIN_AXES))


# --------------------------------------------------------------------------------------------- /strategy


def payoff(result: Payoff, spot: float, theme: str, title: str) -> Figure:
    p = palette(theme)
    x = _r(result.prices, 2)
    data = [
        {"type": "scatter", "x": x, "y": _r(result.at_expiry, 2), "name": f"at first expiry ({result.horizon_days}d)",
         "line": {"color": p["accent"], "width": 2}},
        {"type": "scatter", "x": x, "y": _r(result.today, 2), "name": "today (model value)",
         "line": {"color": p["put"], "dash": "dash"}},
    ]  # fmt: skip
    shapes = [hline(0, {"color": p["muted"], "width": 1}), vline(spot, {"dash": "dot", "color": p["muted"]})]
    shapes += [vline(be, {"dash": "dash", "color": p["up"], "width": 1}) for be in result.breakevens]
    return figure(data, theme, title, 440, xaxis=axis("underlying price"), yaxis=axis("P/L ($)"),
                  hovermode="x unified", shapes=shapes, annotations=[top_label(spot, "spot")])  # fmt: skip


# --------------------------------------------------------------------------------------------- /quality


def loads(rows: pd.DataFrame, theme: str, title: str) -> Figure:
    """Raw rows loaded per trading day, one bar series per dataset (from the load ledger)."""
    data = [
        {"type": "bar", "x": _dates(group["trade_date"]), "y": [int(v) for v in group["rows"]], "name": str(dataset),
         "marker": {"color": SERIES[i % len(SERIES)]}}
        for i, (dataset, group) in enumerate(rows.groupby("dataset", sort=True))
    ]  # fmt: skip
    days = sorted(set(_dates(rows["trade_date"])))
    return figure(data, theme, title, 360, barmode="stack", hovermode="x unified", yaxis=axis("rows loaded"),
                  xaxis={"rangebreaks": _breaks(days)})  # fmt: skip
