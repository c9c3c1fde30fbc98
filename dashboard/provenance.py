"""The provenance panel of the chain and strategy pages: where a selected contract's numbers came from.

It reads one row of the published ``mart_option_provenance`` (with the chain row's pricing inputs), never the
raw tables or the lake: the request id, path and query, fetch and load times, the lake part and line, the
manifest and its sha256, the underlying's bar; and, for the computed Greeks, the inputs and the reason when
the implied volatility is NULL. ``smelt trace`` prints the same chain from the warehouse.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from dash import html

from dashboard import inputs
from dashboard.inputs import InputError
from dashboard.layout import notice
from dashboard.queries import Queries
from workflows import logs
from workflows.pricing import REASON_TEXT

log = logs.get_logger("smelt.dashboard")

#: What the panel shows before a contract is chosen.
PROMPT = "Select a contract (click a cell of the chain or a row of the contracts) to see where its numbers came from."


def panel(prefix: str) -> html.Section:
    """The empty panel a page places under its grid; :func:`describe` fills it."""
    return html.Section([
        html.H2("Provenance", className="card-title", id=f"{prefix}-provenance-title"),
        html.Div(notice(PROMPT), id=f"{prefix}-provenance", role="status", **{"aria-live": "polite"}),
    ], className="card", **{"aria-labelledby": f"{prefix}-provenance-title"})  # fmt: skip


def chain_contract(cell: Any, rows: Any) -> str | None:
    """The contract behind a clicked chain cell: its side from the column (``call_…``/``put_…``), its strike
    from the row id the grid gives (``getRowId`` is the strike)."""
    if not isinstance(cell, dict) or not isinstance(rows, list):
        return None
    column, row_id = str(cell.get("colId") or ""), cell.get("rowId")
    side = column.split("_", 1)[0]
    if side not in ("call", "put"):
        return None
    try:  # the grid's row id is the strike as JavaScript prints it ("575", not "575.0")
        strike = float(row_id)
    except (TypeError, ValueError):
        return None
    for row in rows:
        if (
            isinstance(row, dict)
            and isinstance(row.get("strike_price"), int | float)
            and row["strike_price"] == strike
        ):
            value = row.get(f"{side}_option_ticker")
            return value if isinstance(value, str) else None
    return None


def describe(q: Queries, ticker: Any, day: Any, contract: Any) -> Any:
    """The panel's contents for ``contract`` on ``day`` (every input validated; a refusal is a notice)."""
    if contract in (None, ""):
        return notice(PROMPT)
    try:
        ticker = inputs.ticker(ticker, q.underlyings())
        day = inputs.day(day, "trading day")
        contract = inputs.option_ticker(contract, ticker)
    except InputError as exc:
        return notice(str(exc), "refused")
    try:
        rows = q.provenance(ticker, day, contract)
    except Exception as exc:  # an older snapshot without the mart, or a failing source: say so, log the rest
        log.exception("provenance panel failed", contract=contract)
        return notice(f"the provenance could not be read ({type(exc).__name__}); the server log has the details",
                      "error")  # fmt: skip
    if rows.empty:
        return notice(f"no provenance published for {contract} on {day}", "empty")
    return _body(rows.iloc[0].to_dict())


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _pairs(items: list[tuple[str, Any]]) -> html.Dl:
    children: list[Any] = []
    for label, value in items:
        children += [html.Dt(label), html.Dd(_text(value), className="mono")]
    return html.Dl(children, className="provenance-list")


def _body(r: dict[str, Any]) -> list[Any]:
    status = r.get("computed_status")
    iv_missing = r.get("implied_volatility") is None or (
        isinstance(r.get("implied_volatility"), float) and not math.isfinite(r["implied_volatility"])
    )
    reason = REASON_TEXT.get(str(status), str(status))
    flat = r.get("landing_table") == "polygon_option_day_aggs"
    fetched = [("flat-file object ETag", r.get("source_etag"))] if flat else [
        ("request", r.get("request") or r.get("endpoint")), ("request id", r.get("request_id")),
        ("fetched at", r.get("fetched_at")),
    ]  # fmt: skip
    out: list[Any] = [
        html.H3(f"{r['option_ticker']} on {_text(r['trade_date'])}", className="provenance-title"),
        _pairs([("data origin", r.get("data_origin")), ("source", r.get("source")), *fetched,
                ("landing row", f"raw.{r.get('landing_table')} line {r.get('source_row')}"),
                ("lake part", r.get("source_file")), ("manifest", r.get("manifest_key")),
                ("manifest sha256", r.get("manifest_sha256")), ("loaded at", r.get("loaded_at"))]),
        html.H3("Underlying bar (the spot)", className="provenance-title"),
        _pairs([("landing row", f"raw.{r.get('underlying_landing_table')} line {r.get('underlying_source_row')}"),
                ("lake part", r.get("underlying_source_file")), ("request", r.get("underlying_request")),
                ("request id", r.get("underlying_request_id"))]),
        html.H3("Greeks", className="provenance-title"),
        _pairs([("source", r.get("greeks_source")), ("computed", f"{status}: {reason}"),
                ("price used", f"{_text(r.get('option_price'))} ({_text(r.get('option_price_basis'))})"),
                ("spot", r.get("underlying_price")), ("strike", r.get("strike_price")),
                ("rate", r.get("risk_free_rate")), ("dividend yield", r.get("dividend_yield")),
                ("years to expiry", r.get("years_to_expiry")), ("exercise model", r.get("exercise_model"))]),
    ]  # fmt: skip
    if iv_missing:
        out.insert(1, notice(f"No implied volatility: {status} ({reason}).", "empty"))
    return out
