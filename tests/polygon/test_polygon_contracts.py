"""Contract tests: every fixture of the real API, served at the request its README names, parses.

Each case serves fixture files only at their exact path (raw, so ``O:`` must stay unencoded) and with the
query the README names; a request the case does not expect fails the test. The last test checks that
the cases together serve every JSON file in the fixtures folder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.polygon.support import FAKE_KEY, FakeApi, drain, run_fake_time
from workflows.polygon import PolygonClient, parse_page
from workflows.polygon.endpoints import OPTION_CHAIN

#: One contract's recorded snapshot: read as a chain item (the client calls only the chain), and the shape
#: reference of the simulator's chain items (tests/simulator/test_sim_shapes.py).
CONTRACT_SNAPSHOT = "v3_snapshot_options_AAPL_O-AAPL230616C00150000.json"
CONTRACTS_CURSOR = "YXA9JTdCJTIySUQlMjIlM0ElMjIy"
AGGS_CURSOR = "bGltaXQ9MiZzb3J0PWFzYw"
DIVIDENDS_CURSOR = (
    "YWN0aXZlPXRydWUmZGF0ZT0yMDIxLTA0LTI1JmxpbWl0PTEmb3JkZXI9YXNjJnBhZ2VfbWFya2VyPUElN0M5YWRjMjY0ZTgyM2E1ZjBi"
    "OGUyNDc5YmZiOGE1YmYwNDVkYzU0YjgwMDcyMWE2YmI1ZjBjMjQwMjU4MjFmNGZiJnNvcnQ9dGlja2Vy"
)
YIELDS_CURSOR = "YWN0aXZlPXRydWUmZGF0ZT0xOTYyLTAxLTAyJmxpbWl0PTEmb3JkZXI9YXNj"


@dataclass(frozen=True)
class Route:
    """Serve ``file`` (or ``body``) at ``path``; ``query`` must be present, exactly so if ``exact``."""

    path: str
    file: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    exact: bool = False
    body: dict[str, Any] | None = None


CASES: dict[str, list[Route]] = {
    "grouped_a": [
        Route(
            "/v2/aggs/grouped/locale/us/market/stocks/2005-04-04",
            "v2_aggs_grouped_locale_us_market_stocks_2005-04-04__adjusted-true.json",
            {"adjusted": "true"},
        )
    ],
    "grouped_b": [
        Route(
            "/v2/aggs/grouped/locale/us/market/stocks/2020-10-14",
            "openapi-example__v2_aggs_grouped_locale_us_market_stocks_date.json",
            {"adjusted": "false"},
        )
    ],
    "aggs_a": [
        Route(
            "/v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04",
            "v2_aggs_ticker_AAPL_range_1_day_2005-04-01_2005-04-04.json",
            {"adjusted": "false", "sort": "asc", "limit": "50000"},
        )
    ],
    "aggs_b": [
        Route(
            "/v2/aggs/ticker/AAPL/range/1/day/2020-01-02/2020-01-10",
            "openapi-example__v2_aggs_ticker_stocksTicker_range.json",
            {"adjusted": "false", "sort": "asc", "limit": "50000"},
        ),
        Route(  # the OpenAPI example's next_url; the API's last page of a range has no results
            "/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10",
            query={"cursor": AGGS_CURSOR},
            exact=True,
            body={"status": "OK", "request_id": "aggs-last", "ticker": "AAPL", "resultsCount": 0},
        ),
    ],
    "contracts_a": [
        Route("/v3/reference/options/contracts", "v3_reference_options_contracts.json", {"limit": "1000"}),
        Route(
            "/v3/reference/options/contracts",
            "v3_reference_options_contracts__cursor-YXA9JTdCJTIySUQlMjIlM0ElMjIy.json",
            {"cursor": CONTRACTS_CURSOR},
            exact=True,
        ),
    ],
    "contracts_b": [
        Route(
            "/v3/reference/options/contracts",
            "openapi-example__v3_reference_options_contracts.json",
            {"underlying_ticker": "AAPL", "as_of": "2021-11-01", "expired": "false", "limit": "1000"},
        )
    ],
    "chain_b": [
        Route(
            "/v3/snapshot/options/AAPL",
            "openapi-example__v3_snapshot_options_underlyingAsset.json",
            {"limit": "250"},
            exact=True,
        )
    ],
    "dividends_a": [Route("/v3/reference/dividends", "v3_reference_dividends.json", {"limit": "1000"})],
    "dividends_b": [
        Route(
            "/v3/reference/dividends",
            "openapi-example__v3_reference_dividends.json",
            {"ticker": "AAPL", "ex_dividend_date.gte": "2021-01-01", "ex_dividend_date.lte": "2021-12-31"},
        ),
        Route(
            "/v3/reference/dividends/AAPL",
            body={"results": [], "status": "OK", "request_id": "dividends-last"},
            query={"cursor": DIVIDENDS_CURSOR},
            exact=True,
        ),
    ],
    "yields_a": [
        Route(
            "/fed/v1/treasury-yields", "fed_v1_treasury-yields__date-2024-11-22.json", {"date": "2024-11-22"}
        )
    ],
    "yields_b": [
        Route("/fed/v1/treasury-yields", "docs-example__fed_v1_treasury-yields.json", {"limit": "1000"}),
        Route(
            "/fed/v1/treasury-yields",
            body={"results": [], "status": "OK", "request_id": "yields-last"},
            query={"cursor": YIELDS_CURSOR},
            exact=True,
        ),
    ],
}


def _matches(route: Route, request: httpx.Request) -> bool:
    raw_path = request.url.raw_path.decode().split("?", 1)[0]
    params = dict(request.url.params.multi_items())
    if raw_path != route.path:
        return False
    if route.exact:
        return params == route.query
    return route.query.items() <= params.items() and "cursor" not in params


def serve(case: str, fixtures: Path) -> FakeApi:
    routes = CASES[case]

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET"
        assert request.headers["authorization"] == f"Bearer {FAKE_KEY}"
        for route in routes:
            if _matches(route, request):
                if route.file is not None:
                    return httpx.Response(200, content=(fixtures / route.file).read_bytes())
                return httpx.Response(200, json=route.body)
        raise AssertionError(f"unexpected request for case {case}: {request.url}")

    return FakeApi(handler)


def fixture_json(fixtures: Path, name: str) -> Any:
    return orjson.loads((fixtures / name).read_bytes())


def call(api: FakeApi, fn: Any) -> Any:
    async def main() -> Any:
        async with api.client() as client:
            return await fn(client)

    return run_fake_time(main())


def test_grouped_daily_fixture(polygon_fixtures: Path) -> None:
    api = serve("grouped_a", polygon_fixtures)
    pages = call(api, lambda c: drain(c.grouped_daily("2005-04-04", adjusted=True)))
    [page] = pages
    raw = fixture_json(polygon_fixtures, CASES["grouped_a"][0].file or "")
    assert page.items == raw["results"]  # verbatim
    assert page.items[0]["T"] == "GIK" and page.items[0]["c"] == 10.02
    assert page.request_id == "eae3ded2d6d43f978125b7a8a609fad9"
    assert page.endpoint == "/v2/aggs/grouped/locale/us/market/stocks/{date}"
    assert (
        page.url == "https://api.polygon.io/v2/aggs/grouped/locale/us/market/stocks/2005-04-04?adjusted=true"
    )
    assert page.status_code == 200 and page.item_errors == [] and page.next_url is None
    assert dt.datetime.fromisoformat(page.fetched_at).tzinfo is not None


def test_grouped_daily_openapi_example_unadjusted_by_default(polygon_fixtures: Path) -> None:
    api = serve("grouped_b", polygon_fixtures)
    [page] = call(api, lambda c: drain(c.grouped_daily(dt.date(2020, 10, 14))))
    assert [item["T"] for item in page.items] == ["KIMpL", "TANH", "VSAT"]
    assert page.items[1]["v"] == 25933.6
    assert page.request_id is None


def test_aggregates_fixture(polygon_fixtures: Path) -> None:
    api = serve("aggs_a", polygon_fixtures)
    [page] = call(api, lambda c: drain(c.aggregates("AAPL", dt.date(2005, 4, 1), "2005-04-04")))
    assert len(page.items) == 2
    assert page.items[0]["v"] == 642646396.0 and page.items[0]["t"] == 1112331600000
    assert page.request_id == "12afda77aab3b1936c5fb6ef4241ae42"


def test_aggregates_openapi_example_follows_next_url_to_an_empty_last_page(polygon_fixtures: Path) -> None:
    api = serve("aggs_b", polygon_fixtures)
    pages = call(api, lambda c: drain(c.aggregates("AAPL", "2020-01-02", "2020-01-10")))
    assert [len(p.items) for p in pages] == [2, 0]
    assert pages[0].items[1]["c"] == 74.3575
    assert pages[0].next_url is not None and pages[0].next_url.startswith("https://api.massive.com/")
    assert pages[1].request_id == "aggs-last" and pages[1].next_url is None
    assert [r.url.host for r in api.requests] == ["api.polygon.io", "api.massive.com"]


def test_option_contracts_two_pages_yield_20_items_and_stop(polygon_fixtures: Path) -> None:
    api = serve("contracts_a", polygon_fixtures)
    pages = call(api, lambda c: drain(c.option_contracts("A")))
    assert [len(p.items) for p in pages] == [10, 10]
    tickers = [item["ticker"] for page in pages for item in page.items]
    assert len(set(tickers)) == 20 and tickers[0] == "O:A220520C00065000"
    assert pages[1].items[0]["strike_price"] == 115
    assert len(api.requests) == 2
    assert api.urls[1] == f"https://api.massive.com/v3/reference/options/contracts?cursor={CONTRACTS_CURSOR}"
    assert all(r.headers["authorization"] == f"Bearer {FAKE_KEY}" for r in api.requests)


def test_option_contracts_openapi_example_keeps_nested_fields(polygon_fixtures: Path) -> None:
    api = serve("contracts_b", polygon_fixtures)
    pages = call(api, lambda c: drain(c.option_contracts("AAPL", as_of=dt.date(2021, 11, 1), expired=False)))
    [page] = pages
    assert page.items[1]["additional_underlyings"][0] == {"amount": 44, "type": "equity", "underlying": "VMW"}
    assert page.request_id == "603902c0-a5a5-406f-bd08-f030f92418fa"


def test_option_chain_snapshot_openapi_example(polygon_fixtures: Path) -> None:
    api = serve("chain_b", polygon_fixtures)
    [page] = call(api, lambda c: drain(c.option_chain_snapshot("AAPL")))
    [item] = page.items
    assert item["details"]["ticker"] == "O:AAPL211022C000150000"
    assert item["greeks"] == {"delta": 1, "gamma": 0, "theta": 0.00229, "vega": 0}
    assert item["implied_volatility"] == 5
    assert item["underlying_asset"]["timeframe"] == "DELAYED"


def test_dividends_fixture_keeps_every_field(polygon_fixtures: Path) -> None:
    api = serve("dividends_a", polygon_fixtures)
    [page] = call(api, lambda c: drain(c.dividends()))
    assert page.items == fixture_json(polygon_fixtures, "v3_reference_dividends.json")["results"]
    assert page.items[0]["cash_amount"] == 0.59375 and page.items[0]["frequency"] == 4
    assert page.endpoint == "/v3/reference/dividends"


def test_dividends_of_one_ticker_follow_next_url(polygon_fixtures: Path) -> None:
    api = serve("dividends_b", polygon_fixtures)
    pages = call(api, lambda c: drain(c.dividends("AAPL", ex_dividend_date_gte=dt.date(2021, 1, 1),
                                                   ex_dividend_date_lte="2021-12-31")))  # fmt: skip
    assert [len(p.items) for p in pages] == [2, 0]
    assert pages[0].items[0]["id"].startswith("E8e3c4f") and pages[0].items[0]["dividend_type"] == "CD"


def test_treasury_yields_of_one_day(polygon_fixtures: Path) -> None:
    api = serve("yields_a", polygon_fixtures)
    [page] = call(api, lambda c: drain(c.treasury_yields(date=dt.date(2024, 11, 22))))
    [item] = page.items
    assert item["date"] == "2024-11-22" and item["yield_1_month"] == 4.65 and item["yield_30_year"] == 4.6
    assert page.endpoint == "/fed/v1/treasury-yields"


def test_treasury_yields_documented_example_with_a_numeric_request_id(polygon_fixtures: Path) -> None:
    api = serve("yields_b", polygon_fixtures)
    pages = call(api, lambda c: drain(c.treasury_yields()))
    assert pages[0].items == [{"date": "1962-01-02", "yield_10_year": 4.06, "yield_1_year": 3.22,
                               "yield_5_year": 3.88}]  # fmt: skip
    assert pages[0].request_id is None  # the example's request_id is a number: not kept as an id
    assert pages[1].request_id == "yields-last"


def test_recorded_contract_snapshot_parses_as_a_chain_item(polygon_fixtures: Path) -> None:
    recorded = fixture_json(polygon_fixtures, CONTRACT_SNAPSHOT)
    body = {"status": "OK", "request_id": recorded["request_id"], "results": [recorded["results"]]}
    page = parse_page(OPTION_CHAIN, orjson.dumps(body), url="https://api.polygon.io/v3/snapshot/options/AAPL")
    [item] = page.items
    assert item["greeks"]["delta"] == 0.6436614934293701
    assert item["open_interest"] == 8133 and item["implied_volatility"] == 0.3570277203465058
    assert item["last_quote"]["last_updated"] == 1651254260800059648  # ns timestamps stay exact ints
    assert page.request_id == "104d9b901d0c9e81d284cb8b41c5cdd3"


def test_every_fixture_file_is_served_by_a_case(polygon_fixtures: Path) -> None:
    served = {route.file for routes in CASES.values() for route in routes if route.file}
    on_disk = {path.name for path in polygon_fixtures.glob("*.json")}
    assert served | {CONTRACT_SNAPSHOT} == on_disk


def test_query_parameters_of_each_endpoint() -> None:
    """The filters the pipeline relies on reach the API with the names the API documents."""
    api = FakeApi(lambda _: httpx.Response(200, json={"status": "OK", "results": []}))

    async def main(client: PolygonClient) -> None:
        day, last = dt.date(2024, 1, 2), dt.date(2024, 3, 15)
        await drain(client.option_contracts("SPY", as_of=day, expired=True, expiration_date_gte=day,
                                            expiration_date_lte=last))  # fmt: skip
        await drain(client.splits("AAPL", execution_date_gte=day, execution_date_lte=last))
        await drain(client.option_chain_snapshot("SPY"))
        await drain(client.aggregates("O:SPY240315C00500000", day, last))
        await drain(client.grouped_daily(day))

    call(api, main)
    params = [dict(r.url.params.multi_items()) for r in api.requests]
    assert params[0] == {
        "underlying_ticker": "SPY",
        "as_of": "2024-01-02",
        "expired": "true",
        "expiration_date.gte": "2024-01-02",
        "expiration_date.lte": "2024-03-15",
        "limit": "1000",
    }
    assert api.requests[1].url.path == "/v3/reference/splits"
    assert params[1] == {
        "ticker": "AAPL",
        "execution_date.gte": "2024-01-02",
        "execution_date.lte": "2024-03-15",
        "limit": "1000",
    }
    assert params[2] == {"limit": "250"}
    assert api.requests[3].url.raw_path == (
        b"/v2/aggs/ticker/O:SPY240315C00500000/range/1/day/2024-01-02/2024-03-15"
        b"?adjusted=false&sort=asc&limit=50000"
    )
    assert params[4] == {"adjusted": "false"}


def test_path_parts_are_encoded() -> None:
    api = FakeApi(lambda _: httpx.Response(200, json={"status": "OK"}))

    async def main(client: PolygonClient) -> None:
        await drain(client.aggregates("BRK/B x", "2024-01-02", "2024-01-03"))
        with pytest.raises(ValueError, match="invalid path part"):
            await drain(client.option_chain_snapshot(".."))
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            await drain(client.grouped_daily("2024-1-2"))

    call(api, main)
    assert api.requests[0].url.raw_path.startswith(b"/v2/aggs/ticker/BRK%2FB%20x/range/1/day/")
    assert len(api.requests) == 1
