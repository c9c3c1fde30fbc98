"""The simulator's bodies have the real API's envelopes, field names, value types and units."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.simulator.support import DAY, Client
from workflows.calendar import NEW_YORK

#: Fields that are integers in the API (counts, sizes, timestamps); other numbers may be int or float.
INT_FIELDS = {
    "t",
    "n",
    "volume",
    "open_interest",
    "last_updated",
    "ask_size",
    "bid_size",
    "size",
    "sip_timestamp",
    "exchange",
    "shares_per_contract",
}


def shape(value: Any, key: str = "") -> Any:
    """A comparable picture of a JSON value: keys and types, recursively (first list item only)."""
    if isinstance(value, dict):
        return {k: shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0], key)] if value else []
    if isinstance(value, bool):
        return "bool"
    if key in INT_FIELDS:
        return "int" if isinstance(value, int) else f"not-int:{type(value).__name__}"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def ms(day: dt.date, hour: int) -> int:
    return int(dt.datetime.combine(day, dt.time(hour), NEW_YORK).timestamp() * 1000)


def test_grouped_daily_matches_fixture(client: Client, fixture_json: Any) -> None:
    fixture = fixture_json("v2_aggs_grouped_locale_us_market_stocks_2005-04-04__adjusted-true.json")
    body = client.json(f"/v2/aggs/grouped/locale/us/market/stocks/{DAY}")
    assert set(body) == set(fixture)
    assert shape(body["results"][0]) == shape(fixture["results"][0])
    assert body["resultsCount"] == body["count"] == len(body["results"]) >= 2900
    assert {r["t"] for r in body["results"]} == {ms(DAY, 16)}  # 16:00 New York, in ms
    assert len({r["T"] for r in body["results"]}) == len(body["results"])
    assert {"AAPL", "SPY", "QQQ"} <= {r["T"] for r in body["results"]}


def test_range_aggs_match_fixture(client: Client, fixture_json: Any) -> None:
    fixture = fixture_json("v2_aggs_ticker_AAPL_range_1_day_2005-04-01_2005-04-04.json")
    body = client.json("/v2/aggs/ticker/AAPL/range/1/day/2026-11-02/2026-11-06")
    assert set(body) == set(fixture)
    assert shape(body["results"][0]) == shape(fixture["results"][0])
    assert isinstance(body["results"][0]["v"], float)  # like the fixture (642646396.0)
    days = [dt.date(2026, 11, d) for d in (2, 3, 4, 5, 6)]
    assert [r["t"] for r in body["results"]] == [ms(d, 0) for d in days]  # 00:00 New York, in ms
    assert body["ticker"] == "AAPL" and body["resultsCount"] == 5


def test_option_range_aggs_have_the_stock_bar_shape(client: Client, fixture_json: Any) -> None:
    fixture = fixture_json("v2_aggs_ticker_AAPL_range_1_day_2005-04-01_2005-04-04.json")
    chain = client.json("/v3/snapshot/options/AAPL?limit=1")
    ticker = chain["results"][0]["details"]["ticker"]
    body = client.json(f"/v2/aggs/ticker/{ticker}/range/1/day/2026-11-01/{DAY}")
    assert shape(body["results"][0]) == shape(fixture["results"][0])


def test_contracts_match_fixture(client: Client, fixture_json: Any) -> None:
    fixture = fixture_json("v3_reference_options_contracts.json")
    body = client.json("/v3/reference/options/contracts?underlying_ticker=AAPL&limit=5")
    assert set(body) == set(fixture)
    assert shape(body["results"][0]) == shape(fixture["results"][0])


def test_chain_snapshot_matches_fixture(client: Client, fixture_json: Any) -> None:
    fixture = fixture_json("v3_snapshot_options_AAPL_O-AAPL230616C00150000.json")
    body = client.json("/v3/snapshot/options/AAPL?limit=250")
    assert set(body) - {"next_url"} == set(fixture)
    priced = [item for item in body["results"] if "greeks" in item]
    assert len(priced) > 150
    for item in body["results"]:
        if item in priced:
            assert shape(item) == shape(fixture["results"])
        else:  # like the vendor: no Greeks or IV for a contract it cannot price (expired, no vega)
            assert shape(item) == {k: v for k, v in shape(fixture["results"]).items()
                                   if k not in ("greeks", "implied_volatility")}  # fmt: skip
        assert item["day"]["last_updated"] == ms(DAY, 0) * 1_000_000  # ns, the bar's start
        assert item["underlying_asset"]["ticker"] == "AAPL"


def test_splits_shape(client: Client) -> None:
    splits = client.json("/v3/reference/splits?limit=5")
    assert set(splits) >= {"results", "status", "request_id"}
    assert set(splits["results"][0]) == {"execution_date", "id", "split_from", "split_to", "ticker"}


def test_unknown_path_is_a_json_404(client: Client) -> None:
    response = client.get("/v9/nothing/here")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"status", "request_id", "message"} and body["status"] == "NOT_FOUND"


def test_bad_parameters_are_400s(client: Client) -> None:
    for url in (
        "/v2/aggs/grouped/locale/us/market/stocks/not-a-date",
        "/v2/aggs/ticker/AAPL/range/5/minute/2026-11-02/2026-11-06",
        "/v3/snapshot/options/AAPL?limit=251",
        "/v3/reference/options/contracts?cursor=garbage",
    ):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.json()["status"] == "ERROR"
