"""Result items in the API's own field names, types and units (see shared/fixtures/polygon).

Aggregates use the legacy short keys with ``t`` in milliseconds; v3 items use snake_case with nanosecond
``last_updated``. Whole strikes and split ratios are sent as integers, as the API's encoder does; prices stay
floats. Snapshot items are serialised once per chain so a page is a slice of ready bytes.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import orjson

from workflows.calendar import NEW_YORK
from workflows.simulator.carry import MATURITY_NAMES, Dividends, iso
from workflows.simulator.market import Bars, Days, ordinals
from workflows.simulator.options import Chain, Contracts, DayBars
from workflows.simulator.universe import Split

_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()


@lru_cache(maxsize=8192)
def local_ms(day_ordinal: int, hour: int) -> int:
    """Milliseconds since the epoch of ``hour``:00 New York time on a day (days since 1970)."""
    day = dt.date.fromordinal(day_ordinal + _EPOCH_ORDINAL)
    return int(dt.datetime.combine(day, dt.time(hour), NEW_YORK).timestamp()) * 1000


def number(value: float) -> int | float:
    """A whole number as an int (``65``), anything else as a float (``2.5``)."""
    return int(value) if float(value).is_integer() else float(value)


def stock_bars(bars: Bars, grouped: bool) -> list[dict[str, Any]]:
    """Grouped-daily items (``T``, ``t`` at 16:00 New York) or range items (``t`` at 00:00 New York)."""
    days = ordinals(bars.days).tolist()
    cols = zip(
        bars.tickers,
        bars.volume.tolist(),
        bars.vwap.tolist(),
        bars.open.tolist(),
        bars.close.tolist(),
        bars.high.tolist(),
        bars.low.tolist(),
        days,
        bars.trades.tolist(),
        strict=True,
    )
    if grouped:
        return [
            {"T": t, "v": number(v), "vw": vw, "o": o, "c": c, "h": h, "l": lo, "t": local_ms(d, 16), "n": n}
            for t, v, vw, o, c, h, lo, d, n in cols
        ]
    return [
        {"v": float(v), "vw": vw, "o": o, "c": c, "h": h, "l": lo, "t": local_ms(d, 0), "n": n}
        for _, v, vw, o, c, h, lo, d, n in cols
    ]


def option_bars(days: Days, quotes: DayBars) -> list[dict[str, Any]]:
    """Range items of one option contract (same keys and units as stock bars)."""
    return [
        {"v": float(v), "vw": vw, "o": o, "c": c, "h": h, "l": lo, "t": local_ms(d, 0), "n": n}
        for v, vw, o, c, h, lo, d, n in zip(
            quotes.volume.tolist(),
            quotes.vwap.tolist(),
            quotes.open.tolist(),
            quotes.close.tolist(),
            quotes.high.tolist(),
            quotes.low.tolist(),
            ordinals(days).tolist(),
            quotes.trades.tolist(),
            strict=True,
        )
    ]


def contracts(table: Contracts, index: list[int]) -> list[dict[str, Any]]:
    """``/v3/reference/options/contracts`` items."""
    out = []
    for i in index:
        call = bool(table.call[i])
        out.append(
            {
                "cfi": "OCASPS" if call else "OPASPS",
                "contract_type": "call" if call else "put",
                "exercise_style": "american",
                "expiration_date": dt.date.fromordinal(int(table.expiration[i])).isoformat(),
                "primary_exchange": "BATO",
                "shares_per_contract": 100,
                "strike_price": number(float(table.strike[i])),
                "ticker": table.tickers[i],
                "underlying_ticker": table.underlying,
            }
        )
    return out


def snapshot_items(chain: Chain) -> list[bytes]:
    """Every contract of a chain as ready JSON (``/v3/snapshot/options/{underlying}`` items)."""
    c, q = chain.contracts, chain.quotes
    n = len(c)
    cols = {
        name: getattr(q, name).tolist()
        for name in (
            "spot",
            "iv",
            "fmv",
            "delta",
            "gamma",
            "theta",
            "vega",
            "open_interest",
            "open",
            "high",
            "low",
            "close",
            "vwap",
            "volume",
            "bid",
            "ask",
            "bid_size",
            "ask_size",
            "trade_size",
            "exchange",
            "quote_ns",
            "trade_ns",
            "day_ns",
            "close_ns",
        )
    }
    prev = chain.previous_close.tolist()
    strikes = c.strike.tolist()
    calls = c.call.tolist()
    expirations = [dt.date.fromordinal(e).isoformat() for e in c.expiration.tolist()]
    out = []
    for j in range(n):
        strike, call, close, before = strikes[j], calls[j], cols["close"][j], prev[j]
        bid, ask, spot = cols["bid"][j], cols["ask"][j], cols["spot"][j]
        mid = round((bid + ask) / 2.0, 4)
        breakeven = round(strike + mid if call else strike - mid, 4)
        item = {
            "break_even_price": breakeven,
            "day": {
                "change": round(close - before, 4),
                "change_percent": round((close - before) / before * 100.0, 4) if before else 0.0,
                "close": close,
                "high": cols["high"][j],
                "last_updated": cols["day_ns"][j],
                "low": cols["low"][j],
                "open": cols["open"][j],
                "previous_close": before,
                "volume": cols["volume"][j],
                "vwap": cols["vwap"][j],
            },
            "details": {
                "contract_type": "call" if call else "put",
                "exercise_style": "american",
                "expiration_date": expirations[j],
                "shares_per_contract": 100,
                "strike_price": number(strike),
                "ticker": c.tickers[j],
            },
            "fmv": cols["fmv"][j],
            "greeks": {
                "delta": cols["delta"][j],
                "gamma": cols["gamma"][j],
                "theta": cols["theta"][j],
                "vega": cols["vega"][j],
            },
            "implied_volatility": cols["iv"][j],
            "last_quote": {
                "ask": ask,
                "ask_size": cols["ask_size"][j],
                "bid": bid,
                "bid_size": cols["bid_size"][j],
                "last_updated": cols["quote_ns"][j],
                "midpoint": mid,
                "timeframe": "REAL-TIME",
            },
            "last_trade": {
                "conditions": [209],
                "exchange": cols["exchange"][j],
                "price": close,
                "sip_timestamp": cols["trade_ns"][j],
                "size": cols["trade_size"][j],
                "timeframe": "REAL-TIME",
            },
            "open_interest": cols["open_interest"][j],
            "underlying_asset": {
                "change_to_break_even": round(breakeven - spot, 4),
                "last_updated": cols["close_ns"][j],
                "price": spot,
                "ticker": chain.underlying,
                "timeframe": "REAL-TIME",
            },
        }
        if cols["iv"][j] != cols["iv"][j]:  # NaN: a contract the model cannot price (expired, no vega)
            del item["greeks"], item["implied_volatility"]
        out.append(orjson.dumps(item))
    return out


def splits(rows: list[Split]) -> list[dict[str, Any]]:
    """``/v3/reference/splits`` items."""
    return [
        {
            "execution_date": s.execution_date.isoformat(),
            "id": s.id,
            "split_from": number(s.split_from),
            "split_to": number(s.split_to),
            "ticker": s.ticker,
        }
        for s in rows
    ]


def dividend(divs: Dividends, i: int) -> dict[str, Any]:
    """One ``/v3/reference/dividends`` item."""
    return {
        "cash_amount": number(float(divs.amount[i])),
        "currency": "USD",
        "declaration_date": iso(int(divs.declared[i])),
        "dividend_type": "CD",
        "ex_dividend_date": iso(int(divs.ex_date[i])),
        "frequency": 4,
        "id": divs.ids[i],
        "pay_date": iso(int(divs.paid[i])),
        "record_date": iso(int(divs.record[i])),
        "ticker": divs.ticker,
    }


def treasury_yields(days: Any, curves: Any) -> list[dict[str, Any]]:
    """``/fed/v1/treasury-yields`` items: one per day, yields in percent."""
    return [
        {"date": iso(int(d)), **dict(zip(MATURITY_NAMES, row, strict=True))}
        for d, row in zip(days.tolist(), curves.tolist(), strict=True)
    ]
