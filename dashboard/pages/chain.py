"""/chain: calls | strike | puts for one underlying, day and expiry, with the at-the-money row marked."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import dash_ag_grid as dag
from dash import Dash, Input, Output, State, dcc, html

from dashboard import inputs, provenance
from dashboard.inputs import InputError
from dashboard.layout import HIDDEN, SOURCE_STORE, control, controls, dropdown, no_data, notice, source_of
from dashboard.pages.common import (
    default_expiry,
    expiry_options,
    guarded,
    initial,
    register_days,
    ticker_day_controls,
)
from dashboard.queries import Queries

PATH, TITLE, PREFIX = "/chain", "Chain", "chain"
#: Strike filter: how far from the money, as max |ln(S/K)|.
MONEYNESS = {"5": 0.05, "10": 0.10, "20": 0.20, "all": None}
MONEYNESS_LABELS = {"5": "±5%", "10": "±10%", "20": "±20%", "all": "all strikes"}
DTE = {"7": 7, "30": 30, "60": 60, "90": 90, "180": 180, "all": None}
DTE_LABELS = {
    "7": "1 week",
    "30": "30 days",
    "60": "60 days",
    "90": "90 days",
    "180": "180 days",
    "all": "all",
}
STATE = {
    "ticker": (f"{PREFIX}-ticker", "value"), "date": (f"{PREFIX}-date", "value"),
    "expiry": (f"{PREFIX}-expiry", "value"), "dte": (f"{PREFIX}-dte", "value"), "money": (f"{PREFIX}-money", "value"),
}  # fmt: skip

#: (field, header, d3 format) per side, in the order a trader reads them towards the strike.
FIELDS = (
    ("delta", "Δ", ".3f"), ("gamma", "Γ", ".4f"), ("theta", "Θ", ".3f"), ("vega", "Vega", ".3f"),
    ("implied_volatility", "IV", ".1%"), ("open_interest", "OI", ",.0f"), ("volume", "Vol", ",.0f"),
    ("close", "Last", ".2f"), ("bid", "Bid", ".2f"), ("midpoint", "Mid", ".2f"), ("ask", "Ask", ".2f"),
)  # fmt: skip


#: Each column's narrowest width (px): its widest value in the grid's 12 px font (the broad DejaVu Sans of a
#: Linux browser) plus the cell's padding and border. The widest values are the simulated market's extremes:
#: theta and delta "-8.652" (with d3's wider minus sign), gamma "0.6057", vega "5.166", IV "499.1%", OI and
#: volume "162,273", prices "1587.72". Their sum (1,274 px with the strike) fits the grid at a 1400 px window
#: with a vertical scrollbar; a narrower window scrolls the grid sideways, never the page (decision 104).
MIN_WIDTHS = {
    "delta": 53, "gamma": 50, "theta": 53, "vega": 43, "implied_volatility": 54, "open_interest": 58,
    "volume": 58, "close": 58, "bid": 58, "midpoint": 58, "ask": 58,
}  # fmt: skip
STRIKE_MIN_WIDTH = 72
#: Per-side values the rows carry without a column: the contract (for the provenance panel) and why its
#: computed IV is NULL (the IV cell's tooltip).
ROW_ONLY = ("option_ticker", "computed_status")


def _fmt(spec: str) -> dict[str, str]:
    return {"function": f"params.value == null ? '' : d3.format('{spec}')(params.value)"}


def _iv(side: str, spec: str) -> dict[str, Any]:
    """The IV cell: a NULL implied volatility shows ``n/a`` and says why (the computed status, e.g.
    ``below_intrinsic``) in the cell's tooltip, instead of staying blank."""
    status = f"params.data.{side}_computed_status"
    return {
        "valueFormatter": {"function": f"params.value == null ? ({status} ? 'n/a' : '') : d3.format('{spec}')(params.value)"},
        "tooltipValueGetter": {"function": f"params.value == null && {status} ? 'No IV: ' + {status} : null"},
    }  # fmt: skip


def _side(side: str) -> dict[str, Any]:
    fields = FIELDS if side == "call" else tuple(reversed(FIELDS))
    itm = "params.data.strike_price < params.data.underlying_price"
    if side == "put":
        itm = "params.data.strike_price > params.data.underlying_price"
    return {
        "headerName": "Calls" if side == "call" else "Puts",
        "children": [
            {"field": f"{side}_{field}", "headerName": header, "valueFormatter": _fmt(spec), "type": "rightAligned",
             "minWidth": MIN_WIDTHS[field], "cellClassRules": {"itm": itm},
             **(_iv(side, spec) if field == "implied_volatility" else {})}
            for field, header, spec in fields
        ],
    }  # fmt: skip


COLUMNS = [
    _side("call"),
    {"field": "strike_price", "headerName": "Strike", "valueFormatter": _fmt(",.2f"), "minWidth": STRIKE_MIN_WIDTH,
     "cellClass": "strike-cell", "sort": "asc"},
    _side("put"),
]  # fmt: skip


def grid() -> dag.AgGrid:
    return dag.AgGrid(
        id=f"{PREFIX}-grid",
        columnDefs=COLUMNS,
        rowData=[],
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "suppressHeaderMenuButton": True,
            "flex": 1,
        },
        dashGridOptions={
            "rowClassRules": {"atm-row": "params.data.is_atm"},
            "animateRows": False,
            "rowHeight": 30,
            "headerHeight": 32,
            "suppressColumnVirtualisation": False,
            "domLayout": "normal",
            "getRowId": "params.data.strike_price",
            "ensureDomOrder": True,
            "tooltipShowDelay": 300,
        },
        getRowId="params.data.strike_price",
        className="smelt-grid chain-grid",
        style={"height": "560px", "width": "100%"},
    )


def layout(q: Queries, params: Mapping[str, str]) -> html.Div:
    ticker, day, notes = initial(q, params)
    dte = params.get("dte") if params.get("dte") in DTE else "all"
    money = params.get("money") if params.get("money") in MONEYNESS else "10"
    options = expiry_options(q, ticker, day, DTE[dte]) if ticker and day else []
    expiry = (
        params.get("expiry")
        if any(o["value"] == params.get("expiry") for o in options)
        else default_expiry(options)
    )
    return html.Div([
        *notes,
        controls(
            *ticker_day_controls(q, PREFIX, ticker, day, "option"),
            control("Expiries within", f"{PREFIX}-dte", dropdown(
                f"{PREFIX}-dte", [{"label": v, "value": k} for k, v in DTE_LABELS.items()], dte)),
            control("Expiry", f"{PREFIX}-expiry", dropdown(f"{PREFIX}-expiry", options, expiry)),
            control("Strikes", f"{PREFIX}-money", dcc.RadioItems(
                id=f"{PREFIX}-money", options=[{"label": v, "value": k} for k, v in MONEYNESS_LABELS.items()],
                value=money, inline=True)),
        ),
        html.Section([
            html.H2("Option chain", className="card-title", id=f"{PREFIX}-title"),
            html.Div(id=f"{PREFIX}-note", className="note", role="status", **{"aria-live": "polite"}),
            html.Div(grid(), id=f"{PREFIX}-grid-box"),
            dcc.Store(id={"type": SOURCE_STORE, "chart": f"{PREFIX}-grid"}),
        ], className="card", **{"aria-labelledby": f"{PREFIX}-title"}),
        provenance.panel(PREFIX),
    ])  # fmt: skip


def expiries_for(q: Queries, ticker: Any, day: Any, dte: Any, current: Any) -> tuple[Any, Any]:
    """Expiry options for the ticker, day and DTE filter; keeps the chosen expiry when still listed."""
    try:
        ticker = inputs.ticker(ticker, q.underlyings())
        day = inputs.day(day)
        max_dte = inputs.choice(dte, DTE, "expiries within")
    except InputError:
        return [], None
    options = expiry_options(q, ticker, day, max_dte)
    values = [o["value"] for o in options]
    return options, current if current in values else default_expiry(options)


@guarded(grid=True)
def chain_table(q: Queries, ticker: Any, day: Any, expiry: Any, money: Any, theme: Any) -> tuple[Any, ...]:
    ticker = inputs.ticker(ticker, q.underlyings())
    day = inputs.day(day, "trading day")
    max_log = inputs.choice(money, MONEYNESS, "strikes")
    if expiry in (None, ""):
        return [], notice(no_data(ticker, day, "option chain")), HIDDEN, None
    expiry_day = inputs.day(expiry, "expiry")
    listed = {dt.date.fromisoformat(o["value"]) for o in expiry_options(q, ticker, day)}
    if expiry_day not in listed:
        raise InputError(f"expiry {expiry_day} is not listed for {ticker} on {day}")
    rows = q.chain(ticker, day, expiry_day, max_log)
    if rows.empty:
        return [], notice(no_data(ticker, day, "option chain")), HIDDEN, None
    return _records(rows), summary(ticker, day, expiry_day, rows), {}, source_of(rows)


def summary(ticker: str, day: dt.date, expiry: dt.date, rows: Any) -> str:
    """Spot, the ATM strike and its straddle: the market's expected move to this expiry."""
    atm = rows[rows["is_atm"]].iloc[0]
    spot = float(atm["underlying_price"])
    text = f"{ticker} {spot:,.2f} on {day}; expiry {expiry} ({int(atm['days_to_expiry'])}d); ATM strike {float(atm['strike_price']):,.2f}"
    call, put = atm.get("call_midpoint"), atm.get("put_midpoint")
    if call is not None and put is not None and math.isfinite(float(call)) and math.isfinite(float(put)):
        straddle = float(call) + float(put)
        text += f"; straddle {straddle:,.2f} (expected move ±{straddle / spot:.1%})"
    return text


def _records(rows: Any) -> list[dict[str, Any]]:
    keep = ["strike_price", "underlying_price", "is_atm"] + [
        f"{side}_{field}" for side in ("call", "put") for field in (*(f for f, _, _ in FIELDS), *ROW_ONLY)
    ]
    out = []
    for record in rows[keep].to_dict("records"):
        out.append(
            {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
        )
    return out


def register(app: Dash, q: Queries) -> None:
    register_days(app, q, PREFIX)
    app.callback(
        Output(f"{PREFIX}-expiry", "options"), Output(f"{PREFIX}-expiry", "value"),
        Input(f"{PREFIX}-ticker", "value"), Input(f"{PREFIX}-date", "value"), Input(f"{PREFIX}-dte", "value"),
        State(f"{PREFIX}-expiry", "value"), prevent_initial_call=True,
    )(lambda *args: expiries_for(q, *args))  # fmt: skip
    app.callback(
        Output(f"{PREFIX}-grid", "rowData"), Output(f"{PREFIX}-note", "children"),
        Output(f"{PREFIX}-grid-box", "style"), Output({"type": SOURCE_STORE, "chart": f"{PREFIX}-grid"}, "data"),
        Input(f"{PREFIX}-ticker", "value"), Input(f"{PREFIX}-date", "value"), Input(f"{PREFIX}-expiry", "value"),
        Input(f"{PREFIX}-money", "value"), Input("theme", "data"),
    )(lambda *args: chain_table(q, *args))  # fmt: skip
    app.callback(
        Output(f"{PREFIX}-provenance", "children"),
        Input(f"{PREFIX}-grid", "cellClicked"), State(f"{PREFIX}-grid", "rowData"),
        State(f"{PREFIX}-ticker", "value"), State(f"{PREFIX}-date", "value"), prevent_initial_call=True,
    )(lambda cell, rows, ticker, day: contract_provenance(q, cell, rows, ticker, day))  # fmt: skip


def contract_provenance(q: Queries, cell: Any, rows: Any, ticker: Any, day: Any) -> Any:
    """The provenance panel for the contract of the clicked cell (the strike column picks none)."""
    return provenance.describe(q, ticker, day, provenance.chain_contract(cell, rows))
