"""The dashboard's figures as plotly's graph objects built them before they became plain dicts (decisions 106
and 117): the reference ``tests/dashboard/test_figures.py`` holds each dict builder of ``dashboard.figures``
to (the same JSON, validated property by property), and the baseline ``bench/figures_cpu.py`` measures
them against in the same run. Kept as they were; not used by the dashboard."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures import _dates, _hidden_days, _r, expected_move
from dashboard.payoff import Payoff
from dashboard.theme import SERIES, palette, template

#: Every figure builder of ``dashboard.figures`` the pages call, each with its graph-object build here.
BUILDERS = ("empty", "market", "smiles", "term_structure", "surface", "realized_vs_implied", "oi_by_strike",
            "gamma_exposure", "put_call_ratios", "max_pain", "payoff", "loads")  # fmt: skip


def _base(theme: str, title: str, **layout: Any) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template=template(theme), title_text=title, **layout)
    return fig


def empty(theme: str) -> go.Figure:
    """A figure with nothing drawn and no axes: the page shows the reason beside it."""
    fig = _base(theme, "", height=120)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


# --------------------------------------------------------------------------------------------- /market


def market(bars: pd.DataFrame, iv: pd.DataFrame, theme: str, overlays: set[str], title: str) -> go.Figure:
    """Candles with volume, SMA 20/50/200, Bollinger bands and the one-day expected move from ATM IV.

    The expected-move band on day D is the previous close times (1 +/- ATM IV x sqrt(1/252)): the one-sigma
    range the options market priced for D the evening before.
    """
    p = palette(theme)
    days = _dates(bars["trade_date"])
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.76, 0.24], vertical_spacing=0.03)
    fig.update_layout(template=template(theme), title_text=title, height=560, hovermode="x unified",
                      xaxis_rangeslider_visible=False)  # fmt: skip
    if "move" in overlays and not iv.empty:
        upper, lower = expected_move(bars, iv)
        fig.add_trace(go.Scatter(x=days, y=_r(upper, 2), mode="lines", line={"width": 0}, hoverinfo="skip",
                                 showlegend=False, legendgroup="move"), row=1, col=1)  # fmt: skip
        fig.add_trace(go.Scatter(x=days, y=_r(lower, 2), mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=p["move"], name="expected move (ATM IV)", legendgroup="move"),
                      row=1, col=1)  # fmt: skip
    if "bollinger" in overlays:
        fig.add_trace(go.Scatter(x=days, y=_r(bars["bollinger_upper"], 2), mode="lines", hoverinfo="skip",
                                 line={"width": 1, "color": p["line"]}, showlegend=False, legendgroup="bb"),
                      row=1, col=1)  # fmt: skip
        fig.add_trace(go.Scatter(x=days, y=_r(bars["bollinger_lower"], 2), mode="lines", fill="tonexty",
                                 fillcolor=p["band"], line={"width": 1, "color": p["line"]},
                                 name="Bollinger (20, 2 sd)", legendgroup="bb"), row=1, col=1)  # fmt: skip
    fig.add_trace(
        go.Candlestick(
            x=days, open=_r(bars["open"], 2), high=_r(bars["high"], 2), low=_r(bars["low"], 2),
            close=_r(bars["close"], 2), name="price",
            increasing={"line": {"color": p["up"]}, "fillcolor": p["up"]},
            decreasing={"line": {"color": p["down"]}, "fillcolor": p["down"]},
        ),
        row=1, col=1,
    )  # fmt: skip
    for i, n in enumerate((20, 50, 200)):
        if f"sma{n}" in overlays and bars[f"sma_{n}"].notna().any():
            fig.add_trace(go.Scatter(x=days, y=_r(bars[f"sma_{n}"], 2), mode="lines", name=f"SMA {n}",
                                     line={"width": 1.4, "color": SERIES[i + 3]}), row=1, col=1)  # fmt: skip
    up = bars["close"].astype(float) >= bars["open"].astype(float)
    fig.add_trace(go.Bar(x=days, y=_r(bars["volume"], 0), name="volume", showlegend=False,
                         marker={"color": [p["up"] if u else p["down"] for u in up]}), row=2, col=1)  # fmt: skip
    breaks = [{"bounds": ["sat", "mon"]}, {"values": _hidden_days(days)}]
    fig.update_xaxes(rangebreaks=breaks)
    fig.update_yaxes(title_text="price", row=1, col=1)
    fig.update_yaxes(title_text="volume", row=2, col=1)
    return fig


# --------------------------------------------------------------------------------------------- /volatility


def smiles(df: pd.DataFrame, theme: str, title: str) -> go.Figure:
    fig = _base(theme, title, height=420, xaxis_title="strike", yaxis_title="implied volatility",
                yaxis_tickformat=".0%", hovermode="closest")  # fmt: skip
    for i, (expiry, group) in enumerate(df.groupby("expiration_date", sort=True)):
        dte = int(group["days_to_expiry"].iloc[0])
        fig.add_trace(go.Scatter(x=_r(group["strike_price"], 2), y=_r(group["implied_volatility"]),
                                 mode="lines+markers", name=f"{str(expiry)[:10]} ({dte}d)",
                                 line={"color": SERIES[i % len(SERIES)]}, marker={"size": 5}))  # fmt: skip
    spot = float(df["underlying_price"].iloc[0])
    fig.add_vline(x=spot, line={"dash": "dot", "color": palette(theme)["muted"]}, annotation_text="spot")
    return fig


def term_structure(df: pd.DataFrame, theme: str, title: str) -> go.Figure:
    fig = _base(theme, title, height=320, xaxis_title="days to expiry", yaxis_title="ATM implied volatility",
                yaxis_tickformat=".0%")  # fmt: skip
    fig.add_trace(go.Scatter(x=[int(d) for d in df["days_to_expiry"]], y=_r(df["atm_iv"]), mode="lines+markers",
                             text=_dates(df["expiration_date"]), name="ATM IV",
                             hovertemplate="%{text}: %{y:.1%}<extra></extra>",
                             line={"color": palette(theme)["accent"]}))  # fmt: skip
    return fig


def surface(df: pd.DataFrame, theme: str, title: str, view: str) -> go.Figure:
    """IV by expiry and log-moneyness bin: a heatmap, or a 3-D surface on request."""
    grid = df.pivot_table(index="log_moneyness_bin", columns="days_to_expiry", values="implied_volatility")
    x = [int(c) for c in grid.columns]
    y = [round(float(i), 4) for i in grid.index]
    z = [[None if not math.isfinite(v) else round(float(v), 4) for v in row] for row in grid.to_numpy()]
    if view == "3d":
        fig = _base(theme, title, height=520)
        fig.add_trace(
            go.Surface(x=x, y=y, z=z, colorscale="Viridis", colorbar={"title": "IV", "tickformat": ".0%"})
        )
        fig.update_layout(
            scene={"xaxis_title": "days to expiry", "yaxis_title": "ln(S/K)", "zaxis_title": "IV"}
        )
        return fig
    fig = _base(theme, title, height=420, xaxis_title="days to expiry", yaxis_title="log-moneyness ln(S/K)")
    fig.add_trace(go.Heatmap(x=x, y=y, z=z, colorscale="Viridis", hoverongaps=False,
                             colorbar={"title": "IV", "tickformat": ".0%"},
                             hovertemplate="%{x}d, ln(S/K) %{y}: %{z:.1%}<extra></extra>"))  # fmt: skip
    fig.update_xaxes(type="category")
    return fig


def realized_vs_implied(df: pd.DataFrame, theme: str, title: str) -> go.Figure:
    return _two_series(df, theme, title, ("atm_iv", "implied (ATM, 30d)"),
                       ("realized_volatility_20d", "realized (20d)"), height=380, yaxis_tickformat=".0%")  # fmt: skip


def _two_series(
    df: pd.DataFrame, theme: str, title: str, first: tuple[str, str], second: tuple[str, str], **layout: Any
) -> go.Figure:
    """Two daily series (column, name) on one axis, weekends and holidays hidden."""
    p = palette(theme)
    days = _dates(df["trade_date"])
    fig = _base(theme, title, hovermode="x unified", **layout)
    for (column, name), color in ((first, p["accent"]), (second, p["put"])):
        fig.add_trace(go.Scatter(x=days, y=_r(df[column]), name=name, line={"color": color}))
    fig.update_xaxes(rangebreaks=[{"bounds": ["sat", "mon"]}, {"values": _hidden_days(days)}])
    return fig


# --------------------------------------------------------------------------------------------- /positioning


def oi_by_strike(df: pd.DataFrame, theme: str, title: str, metric: str) -> go.Figure:
    """Calls up, puts down, per strike; the lower panel is the change since the previous trading day."""
    p = palette(theme)
    strikes = _r(df["strike_price"], 2)
    call, put = ("call_oi", "put_oi") if metric == "oi" else ("call_volume", "put_volume")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.06)
    fig.update_layout(template=template(theme), title_text=title, height=520, barmode="relative",
                      hovermode="x unified")  # fmt: skip
    fig.add_trace(
        go.Bar(x=strikes, y=_r(df[call], 0), name="calls", marker={"color": p["call"]}), row=1, col=1
    )
    fig.add_trace(go.Bar(x=strikes, y=_r(-df[put].astype(float), 0), name="puts", marker={"color": p["put"]}),
                  row=1, col=1)  # fmt: skip
    if metric == "oi":
        fig.add_trace(go.Bar(x=strikes, y=_r(df["call_oi_change"], 0), name="call OI change", showlegend=False,
                             marker={"color": p["call"], "opacity": 0.6}), row=2, col=1)  # fmt: skip
        fig.add_trace(go.Bar(x=strikes, y=_r(-df["put_oi_change"].astype(float), 0), name="put OI change",
                             showlegend=False, marker={"color": p["put"], "opacity": 0.6}), row=2, col=1)  # fmt: skip
        fig.update_yaxes(title_text="change", row=2, col=1)
    fig.add_vline(x=float(df["underlying_price"].iloc[0]), line={"dash": "dot", "color": p["muted"]})
    fig.update_yaxes(title_text="open interest" if metric == "oi" else "volume", row=1, col=1)
    fig.update_xaxes(title_text="strike", row=2, col=1)
    return fig


def gamma_exposure(df: pd.DataFrame, theme: str, title: str, column: str = "net_gex") -> go.Figure:
    """Net gamma exposure by strike; ``column`` is ``volume_gex`` for the volume proxy (no open interest)."""
    p = palette(theme)
    fig = _base(theme, title, height=360, xaxis_title="strike", yaxis_title="$ gamma per 1% move")
    gex = df[column].astype(float).fillna(0.0)
    fig.add_trace(go.Bar(x=_r(df["strike_price"], 2), y=_r(gex, 0), name="net GEX" if column == "net_gex" else "volume GEX",
                         marker={"color": [p["call"] if g >= 0 else p["put"] for g in gex]}))  # fmt: skip
    fig.add_vline(x=float(df["underlying_price"].iloc[0]), line={"dash": "dot", "color": p["muted"]},
                  annotation_text="spot")  # fmt: skip
    return fig


def put_call_ratios(df: pd.DataFrame, theme: str, title: str) -> go.Figure:
    return _two_series(df, theme, title, ("put_call_volume_ratio", "by volume"),
                       ("put_call_open_interest_ratio", "by open interest"), height=340,
                       yaxis_title="puts / calls")  # fmt: skip


def max_pain(expiries: pd.DataFrame, history: pd.DataFrame, theme: str, title: str) -> go.Figure:
    """Left: max pain per expiry on the day, against spot. Right: the nearest expiry's max pain over time."""
    p = palette(theme)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1)
    fig.update_layout(template=template(theme), title_text=title, height=360, hovermode="x unified")
    if not expiries.empty:
        fig.add_trace(go.Scatter(x=_dates(expiries["expiration_date"]), y=_r(expiries["max_pain_strike"], 2),
                                 mode="markers+lines", name="max pain by expiry", line={"color": p["put"]}), row=1, col=1)  # fmt: skip
        fig.add_hline(y=float(expiries["underlying_price"].iloc[0]), line={"dash": "dot", "color": p["muted"]},
                      row=1, col=1)  # fmt: skip
    if not history.empty:
        days = _dates(history["trade_date"])
        fig.add_trace(go.Scatter(x=days, y=_r(history["underlying_price"], 2), name="underlying",
                                 line={"color": p["accent"]}), row=1, col=2)  # fmt: skip
        fig.add_trace(go.Scatter(x=days, y=_r(history["nearest_expiry_max_pain_strike"], 2), name="max pain, nearest expiry",
                                 line={"color": SERIES[3], "shape": "hv"}), row=1, col=2)  # fmt: skip
    return fig


# --------------------------------------------------------------------------------------------- /strategy


def payoff(result: Payoff, spot: float, theme: str, title: str) -> go.Figure:
    p = palette(theme)
    x = _r(result.prices, 2)
    fig = _base(theme, title, height=440, xaxis_title="underlying price", yaxis_title="P/L ($)",
                hovermode="x unified")  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=_r(result.at_expiry, 2), name=f"at first expiry ({result.horizon_days}d)",
                             line={"color": p["accent"], "width": 2}))  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=_r(result.today, 2), name="today (model value)",
                             line={"color": p["put"], "dash": "dash"}))  # fmt: skip
    fig.add_hline(y=0, line={"color": p["muted"], "width": 1})
    fig.add_vline(x=spot, line={"dash": "dot", "color": p["muted"]}, annotation_text="spot")
    for be in result.breakevens:
        fig.add_vline(x=be, line={"dash": "dash", "color": p["up"], "width": 1})
    return fig


# --------------------------------------------------------------------------------------------- /quality


def loads(rows: pd.DataFrame, theme: str, title: str) -> go.Figure:
    """Raw rows loaded per trading day, one bar series per dataset (from the load ledger)."""
    fig = _base(theme, title, height=360, barmode="stack", hovermode="x unified", yaxis_title="rows loaded")
    for i, (dataset, group) in enumerate(rows.groupby("dataset", sort=True)):
        fig.add_trace(go.Bar(x=_dates(group["trade_date"]), y=[int(v) for v in group["rows"]], name=str(dataset),
                             marker={"color": SERIES[i % len(SERIES)]}))  # fmt: skip
    days = sorted(set(_dates(rows["trade_date"])))
    fig.update_xaxes(rangebreaks=[{"bounds": ["sat", "mon"]}, {"values": _hidden_days(days)}])
    return fig
