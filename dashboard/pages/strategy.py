"""/strategy: build a position from chain rows (legs and quantities), then see its P/L at the first expiry
and today (the pipeline's pricing model, each leg at its own IV and the underlying's dividend yield),
breakevens and net Greeks. The rate is the day's Treasury curve at each leg's maturity unless the user enters
one. The legs and the rate live in the URL."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import dash_ag_grid as dag
import pandas as pd
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from dashboard import figures, inputs, provenance
from dashboard.inputs import InputError
from dashboard.layout import (
    HIDDEN,
    SOURCE_STORE,
    chart,
    chart_outputs,
    control,
    controls,
    drawn,
    dropdown,
    no_data,
    not_drawn,
    notice,
    source_of,
)
from dashboard.pages.common import (
    default_expiry,
    expiry_options,
    guarded,
    initial,
    register_days,
    ticker_day_controls,
)
from dashboard.payoff import net_greeks, position_payoff
from dashboard.queries import Queries

PATH, TITLE, PREFIX = "/strategy", "Strategy", "strat"
PRESETS = {"straddle": "long ATM straddle", "bull_call": "bull call spread", "condor": "short iron condor"}
STATE = {
    "ticker": (f"{PREFIX}-ticker", "value"), "date": (f"{PREFIX}-date", "value"),
    "expiry": (f"{PREFIX}-expiry", "value"), "legs": (f"{PREFIX}-legs", "data"), "rate": (f"{PREFIX}-rate", "value"),
}  # fmt: skip


def _num(spec: str) -> dict[str, str]:
    return {"function": f"params.value == null ? '' : d3.format('{spec}')(params.value)"}


PICK_COLUMNS = [
    {"field": "option_ticker", "headerName": "Contract", "checkboxSelection": True, "headerCheckboxSelection": False,
     "minWidth": 240, "flex": 1},
    {"field": "contract_type", "headerName": "Type", "width": 70},
    {"field": "strike_price", "headerName": "Strike", "valueFormatter": _num(",.2f"), "width": 90},
    {"field": "bid", "headerName": "Bid", "valueFormatter": _num(".2f"), "width": 80},
    {"field": "ask", "headerName": "Ask", "valueFormatter": _num(".2f"), "width": 80},
    {"field": "implied_volatility", "headerName": "IV", "valueFormatter": _num(".1%"), "width": 80},
    {"field": "delta", "headerName": "Δ", "valueFormatter": _num(".3f"), "width": 80},
]  # fmt: skip
LEG_COLUMNS = [
    {"field": "option_ticker", "headerName": "Contract", "minWidth": 240, "flex": 1},
    {"field": "quantity", "headerName": "Quantity (edit; 0 removes)", "editable": True, "width": 150,
     "cellDataType": "number"},
    {"field": "contract_type", "headerName": "Type", "width": 70},
    {"field": "strike_price", "headerName": "Strike", "valueFormatter": _num(",.2f"), "width": 90},
    {"field": "expiration_date", "headerName": "Expiry", "width": 110},
    {"field": "option_price", "headerName": "Price", "valueFormatter": _num(".2f"), "width": 80},
    {"field": "implied_volatility", "headerName": "IV", "valueFormatter": _num(".1%"), "width": 80},
]  # fmt: skip


def layout(q: Queries, params: Mapping[str, str]) -> html.Div:
    ticker, day, notes = initial(q, params)
    options = expiry_options(q, ticker, day) if ticker and day else []
    expiry = (
        params.get("expiry")
        if any(o["value"] == params.get("expiry") for o in options)
        else default_expiry(options)
    )
    legs = params.get("legs", "")
    try:
        inputs.legs(legs, ticker)
    except InputError as exc:
        notes.append(notice(f"{exc}; starting with no legs", "refused"))
        legs = ""
    try:  # empty: the day's Treasury curve, as published
        rate_value = inputs.number(params["rate"], "rate", 0, 20) if params.get("rate") else None
    except InputError:
        rate_value = None
    return html.Div([
        *notes,
        dcc.Store(id=f"{PREFIX}-legs", data=legs),
        controls(
            *ticker_day_controls(q, PREFIX, ticker, day, "option"),
            control("Expiry to pick from", f"{PREFIX}-expiry", dropdown(f"{PREFIX}-expiry", options, expiry)),
            control("Risk-free rate, % (empty: the day's Treasury curve)", f"{PREFIX}-rate", dcc.Input(
                id=f"{PREFIX}-rate", type="number", value=rate_value, min=0, max=20, step=0.25, debounce=True,
                placeholder="Treasury curve")),
            control("Preset", f"{PREFIX}-preset", dropdown(
                f"{PREFIX}-preset", [{"label": v, "value": k} for k, v in PRESETS.items()], "straddle")),
            html.Div([
                html.Button("Add preset", id=f"{PREFIX}-add-preset", type="button", className="button"),
                html.Button("Buy selected", id=f"{PREFIX}-buy", type="button", className="button button-primary"),
                html.Button("Sell selected", id=f"{PREFIX}-sell", type="button", className="button"),
                html.Button("Clear legs", id=f"{PREFIX}-clear", type="button", className="button"),
            ], className="button-row", role="group", **{"aria-label": "edit legs"}),
        ),
        html.Section([
            html.H2("Contracts (select rows, then buy or sell)", className="card-title", id=f"{PREFIX}-pick-title"),
            html.Div(id=f"{PREFIX}-pick-note", className="note", role="status"),
            html.Div(dag.AgGrid(
                id=f"{PREFIX}-pick", columnDefs=PICK_COLUMNS, rowData=[], className="smelt-grid",
                getRowId="params.data.option_ticker",
                dashGridOptions={"rowSelection": "multiple", "suppressRowClickSelection": False, "rowHeight": 30},
                style={"height": "300px", "width": "100%"}), id=f"{PREFIX}-pick-box"),
            dcc.Store(id={"type": SOURCE_STORE, "chart": f"{PREFIX}-pick"}),
        ], className="card", **{"aria-labelledby": f"{PREFIX}-pick-title"}),
        provenance.panel(PREFIX),
        html.Section([
            html.H2("Position", className="card-title", id=f"{PREFIX}-legs-title"),
            html.Div(id=f"{PREFIX}-edit-note", className="note", role="status", **{"aria-live": "polite"}),
            html.Ul(id=f"{PREFIX}-kpis", className="kpis"),
            dag.AgGrid(id=f"{PREFIX}-legs-grid", columnDefs=LEG_COLUMNS, rowData=[], className="smelt-grid",
                       getRowId="params.data.option_ticker", dashGridOptions={"rowHeight": 30, "domLayout": "autoHeight"},
                       style={"width": "100%"}),
        ], className="card", **{"aria-labelledby": f"{PREFIX}-legs-title"}),
        chart(f"{PREFIX}-payoff", "Profit and loss"),
    ])  # fmt: skip


def _expiry(q: Queries, ticker: str, day: dt.date, expiry: Any) -> dt.date:
    chosen = inputs.day(expiry, "expiry")
    if chosen not in {dt.date.fromisoformat(o["value"]) for o in expiry_options(q, ticker, day)}:
        raise InputError(f"expiry {chosen} is not listed for {ticker} on {day}")
    return chosen


def expiry_choices(q: Queries, ticker: Any, day: Any, current: Any) -> tuple[Any, Any]:
    try:
        ticker = inputs.ticker(ticker, q.underlyings())
        day = inputs.day(day)
    except InputError:
        return [], None
    options = expiry_options(q, ticker, day)
    return options, current if any(o["value"] == current for o in options) else default_expiry(options)


@guarded(grid=True)
def pick_grid(q: Queries, ticker: Any, day: Any, expiry: Any, theme: Any) -> tuple[Any, ...]:
    ticker = inputs.ticker(ticker, q.underlyings())
    day = inputs.day(day, "trading day")
    if expiry in (None, ""):
        return [], notice(no_data(ticker, day, "option chain")), HIDDEN, None
    rows = q.contracts(ticker, day, _expiry(q, ticker, day, expiry))
    if rows.empty:
        return [], notice(no_data(ticker, day, "option chain")), HIDDEN, None
    return _records(rows, [c["field"] for c in PICK_COLUMNS]), None, {}, source_of(rows)


def preset_legs(contracts: pd.DataFrame, preset: str) -> list[tuple[str, int]]:
    """Legs of a preset around the money on the chosen expiry."""
    spot = float(contracts["underlying_price"].iloc[0])
    strikes = sorted(set(float(s) for s in contracts["strike_price"]))

    def nearest(target: float) -> float:
        return min(strikes, key=lambda s: abs(s - target))

    def leg(kind: str, strike: float, quantity: int) -> tuple[str, int]:
        row = contracts[(contracts["contract_type"] == kind) & (contracts["strike_price"] == strike)]
        if row.empty:
            raise InputError(f"no {kind} at strike {strike:g} on this expiry")
        return str(row["option_ticker"].iloc[0]), quantity

    atm = nearest(spot)
    if preset == "straddle":
        return [leg("call", atm, 1), leg("put", atm, 1)]
    if preset == "bull_call":
        return [leg("call", atm, 1), leg("call", nearest(spot * 1.05), -1)]
    return [leg("put", nearest(spot * 0.90), 1), leg("put", nearest(spot * 0.95), -1),
            leg("call", nearest(spot * 1.05), -1), leg("call", nearest(spot * 1.10), 1)]  # fmt: skip


def edit_legs(
    q: Queries,
    trigger: Any,
    legs: Any,
    selected: Any,
    changed: Any,
    preset: Any,
    ticker: Any,
    day: Any,
    expiry: Any,
) -> str:
    """The legs after one edit: buy or sell the selected rows, add a preset, change a quantity, or clear.
    Returns the URL form of the legs; a refused input leaves them as they were."""
    ticker = inputs.ticker(ticker, q.underlyings())
    if trigger == f"{PREFIX}-ticker":
        return ""  # legs on another underlying do not carry over
    current = inputs.legs(legs or "", ticker)
    if trigger == f"{PREFIX}-clear":
        return ""
    if trigger in (f"{PREFIX}-buy", f"{PREFIX}-sell"):
        sign = 1 if trigger.endswith("buy") else -1
        picked = [inputs.option_ticker((r or {}).get("option_ticker"), ticker) for r in (selected or [])]
        current += [(option, sign) for option in picked]
    elif trigger == f"{PREFIX}-add-preset":
        day = inputs.day(day, "trading day")
        contracts = q.contracts(ticker, day, _expiry(q, ticker, day, expiry))
        if contracts.empty:
            raise InputError(f"no contracts for {ticker} on {day}")
        current += preset_legs(contracts, inputs.choice(preset, tuple(PRESETS), "preset"))
    elif trigger == f"{PREFIX}-legs-grid":
        change = (changed or [{}])[0]
        option = inputs.option_ticker((change.get("data") or {}).get("option_ticker"), ticker)
        quantity = int(inputs.number(change.get("value"), f"quantity of {option}", -inputs.MAX_QUANTITY,
                                     inputs.MAX_QUANTITY, integer=True))  # fmt: skip
        current = [(o, quantity if o == option else n) for o, n in current]
    return inputs.encode_legs(inputs.legs([{"option": o, "quantity": n} for o, n in current], ticker))


@guarded(extra=([], []))
def position(q: Queries, ticker: Any, day: Any, legs: Any, rate: Any, theme: Any) -> tuple[Any, ...]:
    """The payoff chart's outputs, plus the legs grid rows and the KPI list (the last two outputs)."""
    ticker = inputs.ticker(ticker, q.underlyings())
    day = inputs.day(day, "trading day")
    chosen = inputs.legs(legs or "", ticker)
    r = None if rate in (None, "") else inputs.number(rate, "risk-free rate", 0, 20) / 100
    if not chosen:
        hint = "no legs yet: select contracts above and buy or sell them, or add a preset"
        return (*not_drawn(hint, theme), [], [notice(hint)])
    quantities = dict(chosen)
    rows = q.legs(ticker, day, list(quantities))
    missing = sorted(set(quantities) - set(rows["option_ticker"] if not rows.empty else []))
    if missing:
        return (*not_drawn(f"no quote on {day} for {', '.join(missing)}: it expired or is not listed that day", theme),
                [], [])  # fmt: skip
    rows = rows.assign(quantity=[quantities[o] for o in rows["option_ticker"]])
    if rows["implied_volatility"].isna().any() or rows["option_price"].isna().any():
        return (
            *not_drawn(f"some legs have no price or IV on {day} (a backfilled day without Greeks)", theme),
            [],
            [],
        )
    if r is None and rows["risk_free_rate"].isna().any():
        return (*not_drawn(f"no Treasury rate is published for {day}: enter a risk-free rate", theme), [], [])
    spot = float(rows["underlying_price"].iloc[0])
    result = position_payoff(rows, r)
    first = rows.loc[rows["years_to_expiry"].astype(float).idxmin()]
    rate_shown = f"{r:.2%} (entered)" if r is not None else f"Treasury {float(first['risk_free_rate']):.2%}"
    greeks = net_greeks(rows)
    kpis = [
        ("net premium", f"{'debit' if result.cost > 0 else 'credit'} {abs(result.cost):,.2f}"),
        ("breakevens", ", ".join(f"{b:,.2f}" for b in result.breakevens) or "none in range"),
        ("max profit (range)", f"{float(result.at_expiry.max()):,.2f}"),
        ("max loss (range)", f"{float(result.at_expiry.min()):,.2f}"),
        ("Δ shares", f"{greeks['delta']:,.1f}"), ("Γ", f"{greeks['gamma']:,.2f}"),
        ("Θ $/day", f"{greeks['theta']:,.2f}"), ("vega $/vol pt", f"{greeks['vega']:,.2f}"),
        ("rate at the first expiry", rate_shown),
    ]  # fmt: skip
    items = [html.Li([html.Span(k, className="kpi-label"), html.Span(v, className="kpi-value")], className="kpi")
             for k, v in kpis]  # fmt: skip
    fig = figures.payoff(result, spot, theme, f"{ticker} position P/L, priced {day}")
    legs_rows = _records(rows, [c["field"] for c in LEG_COLUMNS])
    return (*drawn(fig, source_of(rows)), legs_rows, items)


def _records(rows: pd.DataFrame, fields: list[str]) -> list[dict[str, Any]]:
    out = []
    for record in rows[fields].to_dict("records"):
        clean = {}
        for key, value in record.items():
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            elif isinstance(value, dt.date):
                value = value.isoformat()
            clean[key] = value
        out.append(clean)
    return out


def _picked(cell: Any) -> Any:
    """The contract of a clicked row of the pick grid (its row id is the contract)."""
    return cell.get("rowId") if isinstance(cell, dict) else None


def register(app: Dash, q: Queries) -> None:
    register_days(app, q, PREFIX)
    t, d = Input(f"{PREFIX}-ticker", "value"), Input(f"{PREFIX}-date", "value")
    app.callback(Output(f"{PREFIX}-expiry", "options"), Output(f"{PREFIX}-expiry", "value"), t, d,
                 State(f"{PREFIX}-expiry", "value"), prevent_initial_call=True)(
        lambda *a: expiry_choices(q, *a))  # fmt: skip
    app.callback(
        Output(f"{PREFIX}-pick", "rowData"), Output(f"{PREFIX}-pick-note", "children"),
        Output(f"{PREFIX}-pick-box", "style"), Output({"type": SOURCE_STORE, "chart": f"{PREFIX}-pick"}, "data"),
        t, d, Input(f"{PREFIX}-expiry", "value"), Input("theme", "data"),
    )(lambda *a: pick_grid(q, *a))  # fmt: skip
    app.callback(
        Output(f"{PREFIX}-provenance", "children"), Input(f"{PREFIX}-pick", "cellClicked"),
        State(f"{PREFIX}-ticker", "value"), State(f"{PREFIX}-date", "value"), prevent_initial_call=True,
    )(lambda cell, ticker, day: provenance.describe(q, ticker, day, _picked(cell)))  # fmt: skip

    @app.callback(
        Output(f"{PREFIX}-legs", "data"), Output(f"{PREFIX}-edit-note", "children"),
        Input(f"{PREFIX}-buy", "n_clicks"), Input(f"{PREFIX}-sell", "n_clicks"), Input(f"{PREFIX}-clear", "n_clicks"),
        Input(f"{PREFIX}-add-preset", "n_clicks"), Input(f"{PREFIX}-legs-grid", "cellValueChanged"),
        Input(f"{PREFIX}-ticker", "value"),
        State(f"{PREFIX}-legs", "data"), State(f"{PREFIX}-pick", "selectedRows"), State(f"{PREFIX}-preset", "value"),
        State(f"{PREFIX}-date", "value"), State(f"{PREFIX}-expiry", "value"),
        prevent_initial_call=True,
    )  # fmt: skip
    def _edit(*args: Any) -> Any:
        legs, selected, preset, day, expiry = args[6:]
        changed, ticker = args[4], args[5]
        try:
            return edit_legs(q, ctx.triggered_id, legs, selected, changed, preset, ticker, day, expiry), None
        except InputError as exc:
            return no_update, notice(str(exc), "refused")

    app.callback(
        *chart_outputs(f"{PREFIX}-payoff"),
        Output(f"{PREFIX}-legs-grid", "rowData"), Output(f"{PREFIX}-kpis", "children"),
        t, d, Input(f"{PREFIX}-legs", "data"), Input(f"{PREFIX}-rate", "value"), Input("theme", "data"),
    )(lambda *a: position(q, *a))  # fmt: skip
