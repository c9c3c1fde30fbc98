"""The quick check of pages (decision 120) never accepts what the pydantic models refuse or would call drift."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ValidationError

from tests.polygon.test_polygon_schema import drift_lines
from workflows.polygon import PolygonSchemaError, fastcheck, parse_page
from workflows.polygon import endpoints as ep

SNAPSHOT = {
    "break_even_price": 8.54,
    "day": {"change": -0.11, "change_percent": -6.6, "close": 1.55, "high": 1.86, "last_updated": 1795150800000000000,
            "low": 1.46, "open": 1.7, "previous_close": 1.66, "volume": 1, "vwap": 1.73},
    "details": {"contract_type": "call", "exercise_style": "american", "expiration_date": "2026-11-20",
                "shares_per_contract": 100, "strike_price": 7, "ticker": "O:X261120C00007000"},
    "fmv": 1.54,
    "greeks": {"delta": 0.5, "gamma": 0.1, "theta": -0.02, "vega": 0.03},
    "implied_volatility": 0.41,
    "last_quote": {"ask": 1.59, "ask_size": 203, "bid": 1.49, "bid_size": 206, "bid_exchange": 301,
                   "ask_exchange": 302, "last_updated": 1795208382653582182, "midpoint": 1.54, "timeframe": "REAL-TIME"},
    "last_trade": {"conditions": [209], "exchange": 301, "price": 1.55, "sip_timestamp": 1795208057160096712,
                   "size": 1, "timeframe": "REAL-TIME"},
    "open_interest": 9,
    "underlying_asset": {"change_to_break_even": 0.0, "last_updated": 1795208400000000000, "price": 8.54,
                         "ticker": "X", "timeframe": "REAL-TIME", "value": 8.54},
}  # fmt: skip
CONTRACT = {
    "cfi": "OCASPS", "contract_type": "call", "exercise_style": "american", "expiration_date": "2026-11-20",
    "primary_exchange": "BATO", "shares_per_contract": 100, "strike_price": 7.5, "ticker": "O:X261120C00007500",
    "underlying_ticker": "X", "correction": 0,
    "additional_underlyings": [{"type": "equity", "underlying": "Y", "amount": 10}],
}  # fmt: skip
BAR = {"o": 1.0, "h": 2.0, "l": 0.5, "c": 1.5, "v": 100, "t": 1704229200000, "vw": 1.2, "n": 7, "otc": False}
#: A valid item of every endpoint, each field present, so that every field is tried.
VALID: dict[ep.Endpoint, dict[str, Any]] = {
    ep.OPTION_CHAIN: SNAPSHOT,
    ep.OPTION_CONTRACTS: CONTRACT,
    ep.AGGREGATES: BAR,
    ep.GROUPED_DAILY: {**BAR, "T": "AAPL"},
    ep.STOCK_SPLITS: {"ticker": "AAPL", "execution_date": "2020-08-31", "split_from": 1, "split_to": 4, "id": "s"},
    ep.STOCK_DIVIDENDS: {"ticker": "AAPL", "cash_amount": 0.25, "ex_dividend_date": "2026-11-07", "id": "d",
                         "declaration_date": "2026-10-30", "record_date": "2026-11-10", "pay_date": "2026-11-13",
                         "frequency": 4, "dividend_type": "CD", "currency": "USD"},
    ep.TREASURY_YIELDS: {"date": "2026-11-20", **{f"yield_{m}": 4.1 for m in (
        "1_month", "3_month", "6_month", "1_year", "2_year", "3_year", "5_year", "7_year", "10_year", "20_year",
        "30_year")}},
}  # fmt: skip
#: What each field is replaced by in turn: every JSON type, the edges of numbers, and the key removed.
CANDIDATES: list[Any] = [None, True, False, 0, 1, -1, 1.5, 2**63, 2**70, "", "1.5", [], [1], [1.5], [{}], {}]
REMOVED = object()


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key and list element of an item, nested ones included."""
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    )
    for key, child in children:
        yield (*path, key)
        yield from _paths(child, (*path, key))


def _replaced(item: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(item)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    if value is REMOVED:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


def _objects(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        yield path
    for key, child in (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    ):
        yield from _objects(child, (*path, key))


def _pydantic_accepts_without_drift(model: type[BaseModel], item: dict[str, Any]) -> bool:
    try:
        ep._adapter(model).validate_python([item])
    except ValidationError:
        return False
    return not list(ep._extra_paths(item, model))


def _variants(item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path in _paths(item):
        for value in [*CANDIDATES, REMOVED]:
            yield _replaced(item, path, value)
    for path in _objects(item):  # a key no model declares, at every level
        yield _replaced(item, (*path, "new_field"), 1)


@pytest.mark.parametrize("endpoint", list(VALID), ids=lambda e: e.template)
def test_the_quick_check_accepts_only_what_pydantic_accepts_without_drift(endpoint: ep.Endpoint) -> None:
    item = VALID[endpoint]
    assert fastcheck.accepts(endpoint.model, [item])
    assert _pydantic_accepts_without_drift(endpoint.model, item)
    refused = 0
    for variant in _variants(item):
        quick = fastcheck.accepts(endpoint.model, [item, variant])
        slow = _pydantic_accepts_without_drift(endpoint.model, variant)
        assert not quick or slow, f"the quick check accepted what pydantic refuses or calls drift: {variant}"
        refused += not quick
    assert refused > len(list(_paths(item)))  # wrong types were tried, not only harmless values


def test_every_endpoint_is_covered() -> None:
    endpoints = {value for value in vars(ep).values() if isinstance(value, ep.Endpoint)}
    assert endpoints == set(VALID)


def test_a_model_annotation_without_a_mirror_is_refused_loudly() -> None:
    class Odd(BaseModel):
        when: dict[str, int]

    with pytest.raises(TypeError, match="no msgspec mirror"):
        fastcheck.mirror(Odd)


def _page(*items: Any) -> bytes:
    return orjson.dumps({"status": "OK", "request_id": "r1", "results": list(items)})


def test_a_clean_page_is_not_validated_by_pydantic(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(*_: Any) -> None:
        raise AssertionError("the pydantic path ran for a clean page")

    monkeypatch.setattr(ep, "_validate", slow)
    page = parse_page(ep.OPTION_CHAIN, _page(SNAPSHOT, SNAPSHOT), url="/v3/snapshot/options/X")
    assert page.items == [SNAPSHOT, SNAPSHOT] and page.item_errors == []


def test_a_refused_page_still_gets_pydantics_error() -> None:
    bad = _replaced(SNAPSHOT, ("details", "strike_price"), "7")
    with pytest.raises(PolygonSchemaError, match=r"item 1 field 'details.strike_price'.*got str") as caught:
        parse_page(ep.OPTION_CHAIN, _page(SNAPSHOT, bad), url="/v3/snapshot/options/X")
    assert caught.value.request_id == "r1"


def test_drift_and_item_errors_take_the_full_path(log_output: io.StringIO) -> None:
    drifted = _replaced(SNAPSHOT, ("greeks", "rho"), 0.01)
    error = {"error": "NOT_FOUND", "message": "no such contract", "ticker": "O:X"}
    page = parse_page(ep.OPTION_CHAIN, _page(drifted, error), url="/v3/snapshot/options/Y")
    assert page.items == [drifted] and page.item_errors == [error]
    [line] = drift_lines(log_output)
    assert line["new_fields"] == ["greeks.rho"]
