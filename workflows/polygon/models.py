"""What one API result item must look like, per endpoint, and the page that carries items to the lake.

The lake stores items verbatim, so these models are a gate, not a transformation: they are strict
about the types of the fields the pipeline relies on (a price that turns into a string fails loudly)
and keep every other field (``extra="allow"``), which the parser reports once as schema drift.
Names follow the API's keys through aliases; short v2 keys (``o``, ``T``) get readable names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ApiModel(BaseModel):
    """Strict types, unknown fields kept, built from the API's key names."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


# --- stocks -------------------------------------------------------------------------------------------


class Agg(ApiModel):
    """One bar of ``/v2/aggs/ticker/{ticker}/range/...``; ``t`` is the bar start in ms since the epoch."""

    open: float = Field(alias="o")
    high: float = Field(alias="h")
    low: float = Field(alias="l")
    close: float = Field(alias="c")
    volume: float = Field(alias="v")
    timestamp: int = Field(alias="t")
    vwap: float | None = Field(default=None, alias="vw")
    transactions: int | None = Field(default=None, alias="n")
    otc: bool | None = None


class GroupedAgg(Agg):
    """One ticker's day bar in ``/v2/aggs/grouped/...``: a bar plus its ticker in ``T``."""

    ticker: str = Field(alias="T")


class StockSplit(ApiModel):
    """One row of ``/v3/reference/splits``: ``split_to`` new shares for ``split_from`` old ones."""

    ticker: str
    execution_date: str
    split_from: float
    split_to: float
    id: str | None = None


class StockDividend(ApiModel):
    """One row of ``/v3/reference/dividends``: a cash distribution per share, in the share basis of its
    ex-dividend date. ``frequency`` is payments a year (0 one-time, 1, 2, 4, 12, 24, 52); ``dividend_type``
    is CD (regular), SC (special), LT/ST (long/short-term capital gain)."""

    ticker: str
    cash_amount: float
    ex_dividend_date: str
    declaration_date: str | None = None
    record_date: str | None = None
    pay_date: str | None = None
    frequency: int | None = None
    dividend_type: str | None = None
    currency: str | None = None
    id: str | None = None


class TreasuryYield(ApiModel):
    """One day of ``/fed/v1/treasury-yields``: US Treasury par yields in percent by maturity (any may be
    missing: the documented example has three)."""

    date: str
    yield_1_month: float | None = None
    yield_3_month: float | None = None
    yield_6_month: float | None = None
    yield_1_year: float | None = None
    yield_2_year: float | None = None
    yield_3_year: float | None = None
    yield_5_year: float | None = None
    yield_7_year: float | None = None
    yield_10_year: float | None = None
    yield_20_year: float | None = None
    yield_30_year: float | None = None


# --- options ------------------------------------------------------------------------------------------


class AdditionalUnderlying(ApiModel):
    type: str | None = None
    underlying: str | None = None
    amount: float | None = None


class OptionContract(ApiModel):
    """One contract of ``/v3/reference/options/contracts`` (also the object of ``.../contracts/{ticker}``)."""

    ticker: str
    underlying_ticker: str
    contract_type: str
    expiration_date: str
    strike_price: float
    exercise_style: str | None = None
    shares_per_contract: float | None = None
    primary_exchange: str | None = None
    cfi: str | None = None
    correction: int | None = None
    additional_underlyings: list[AdditionalUnderlying] | None = None


class SnapshotDetails(ApiModel):
    ticker: str
    contract_type: str
    expiration_date: str
    strike_price: float
    exercise_style: str | None = None
    shares_per_contract: float | None = None


class SnapshotDay(ApiModel):
    """The contract's session bar; ``last_updated`` is in ns."""

    open: float | None = None
    high: float | None = None
    low: float | None = None
    close: float | None = None
    volume: float | None = None
    vwap: float | None = None
    change: float | None = None
    change_percent: float | None = None
    previous_close: float | None = None
    last_updated: int | None = None


class Greeks(ApiModel):
    delta: float | None = None
    gamma: float | None = None
    theta: float | None = None
    vega: float | None = None


class SnapshotQuote(ApiModel):
    bid: float | None = None
    ask: float | None = None
    bid_size: float | None = None
    ask_size: float | None = None
    bid_exchange: int | None = None
    ask_exchange: int | None = None
    midpoint: float | None = None
    last_updated: int | None = None
    timeframe: str | None = None


class SnapshotTrade(ApiModel):
    price: float | None = None
    size: float | None = None
    exchange: int | None = None
    conditions: list[int] | None = None
    sip_timestamp: int | None = None
    timeframe: str | None = None


class UnderlyingAsset(ApiModel):
    ticker: str | None = None
    price: float | None = None
    value: float | None = None
    change_to_break_even: float | None = None
    last_updated: int | None = None
    timeframe: str | None = None


class OptionSnapshot(ApiModel):
    """One contract of the chain snapshot ``/v3/snapshot/options/{underlying}`` (and the single-contract one).

    Greeks and implied volatility are absent for contracts the API cannot price (deep ITM, no quotes).
    """

    details: SnapshotDetails
    break_even_price: float | None = None
    day: SnapshotDay | None = None
    greeks: Greeks | None = None
    implied_volatility: float | None = None
    open_interest: float | None = None
    fmv: float | None = None
    last_quote: SnapshotQuote | None = None
    last_trade: SnapshotTrade | None = None
    underlying_asset: UnderlyingAsset | None = None


# --- what the client hands to the pipeline ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """One response's items, exactly as received, with the metadata the lake stores beside them.

    ``endpoint`` is the path template, ``url`` the requested URL (it never carries a key), ``fetched_at``
    an ISO 8601 UTC time. Per-item errors the API put inside ``results`` are in ``item_errors``, never
    in ``items``. ``next_url`` is the link the client follows next (``None`` on the last page);
    ``retries`` is how many failed attempts preceded this page (its requests = ``1 + retries``).
    """

    endpoint: str
    url: str
    request_id: str | None
    fetched_at: str
    items: list[dict[str, Any]]
    item_errors: list[dict[str, Any]] = field(default_factory=list)
    status_code: int = 200
    next_url: str | None = None
    retries: int = 0
