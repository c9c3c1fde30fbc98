"""The simulated clock: X-Sim-Now replays past days, and every endpoint agrees on what a day looked like."""

from __future__ import annotations

import datetime as dt

from starlette.applications import Starlette

from tests.simulator.support import DAY, Client
from workflows.calendar import NEW_YORK
from workflows.simulator import set_now


def _ns(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(0), NEW_YORK).timestamp()) * 1_000_000_000


def test_now_header_replays_the_chain_of_that_day(client: Client) -> None:
    days = [dt.date(2026, 11, 18), dt.date(2026, 11, 20), DAY]
    chains = {
        d: client.json("/v3/snapshot/options/AAPL?limit=250", {"X-Sim-Now": d.isoformat()}) for d in days
    }
    grouped = {d: client.json(f"/v2/aggs/grouped/locale/us/market/stocks/{d}") for d in days}
    for d in days:
        items = chains[d]["results"]
        assert {r["day"]["last_updated"] for r in items} == {_ns(d)}
        aapl = next(r for r in grouped[d]["results"] if r["T"] == "AAPL")
        assert {r["underlying_asset"]["price"] for r in items} == {aapl["c"]}
    assert chains[days[0]]["results"] != chains[days[1]]["results"]


def test_snapshot_day_equals_the_contracts_daily_bar(client: Client) -> None:
    for day in ("2026-11-19", "2026-11-24"):
        chain = client.json("/v3/snapshot/options/TSLA?limit=250", {"X-Sim-Now": day})
        for item in chain["results"][::40]:
            ticker = item["details"]["ticker"]
            bars = client.json(
                f"/v2/aggs/ticker/{ticker}/range/1/day/2026-01-01/2026-12-31", {"X-Sim-Now": day}
            )
            last, before = bars["results"][-1], bars["results"][-2]
            d = item["day"]
            assert last["t"] * 1_000_000 == d["last_updated"]
            assert (last["o"], last["h"], last["l"], last["c"]) == (
                d["open"],
                d["high"],
                d["low"],
                d["close"],
            )
            assert (last["v"], last["vw"]) == (d["volume"], d["vwap"])
            assert before["c"] == d["previous_close"]
            assert d["low"] <= min(d["open"], d["close"]) <= max(d["open"], d["close"]) <= d["high"]


def test_option_bars_only_while_listed(client: Client) -> None:
    chain = client.json("/v3/snapshot/options/AAPL?limit=250&expiration_date=2026-11-27")
    ticker = chain["results"][0]["details"]["ticker"]  # a weekly, listed about seven weeks ahead
    bars = client.json(f"/v2/aggs/ticker/{ticker}/range/1/day/2026-01-01/2027-06-30")["results"]
    first = dt.datetime.fromtimestamp(bars[0]["t"] / 1000, NEW_YORK).date()
    assert dt.date(2026, 10, 8) <= first <= dt.date(2026, 10, 12) and len(bars) < 40
    after = Client(client.app, now="2026-12-15")
    late = after.json(f"/v2/aggs/ticker/{ticker}/range/1/day/2026-01-01/2027-06-30")["results"]
    assert dt.datetime.fromtimestamp(late[-1]["t"] / 1000, NEW_YORK).date() == dt.date(2026, 11, 27)
    listed = [
        r["details"]["ticker"]
        for page in after.pages("/v3/snapshot/options/AAPL?limit=250")
        for r in page["results"]
    ]
    assert ticker not in listed  # expired by then


def test_no_data_after_now_or_on_holidays(client: Client) -> None:
    future = client.json("/v2/aggs/grouped/locale/us/market/stocks/2026-11-25")
    assert future["resultsCount"] == 0 and "results" not in future
    holiday = Client(client.app, now="2026-12-01").json("/v2/aggs/grouped/locale/us/market/stocks/2026-11-26")
    assert holiday["resultsCount"] == 0 and "results" not in holiday
    bars = client.json("/v2/aggs/ticker/AAPL/range/1/day/2026-11-20/2026-12-31")["results"]
    assert len(bars) == 3  # 20, 23, 24 November


def test_app_clock_default_and_setter(app: Starlette) -> None:
    no_header = Client(app, now=None)
    set_now(app, "2026-11-20")
    chain = no_header.json("/v3/snapshot/options/QQQ?limit=1")
    assert chain["results"][0]["day"]["last_updated"] == _ns(dt.date(2026, 11, 20))
    contracts = no_header.json("/v3/reference/options/contracts?underlying_ticker=QQQ&limit=1000")
    assert all(r["expiration_date"] >= "2026-11-20" for r in contracts["results"])
    set_now(app, "2026-11-21T10:00:00")  # a Saturday morning: still Friday's chain
    chain = no_header.json("/v3/snapshot/options/QQQ?limit=1")
    assert chain["results"][0]["day"]["last_updated"] == _ns(dt.date(2026, 11, 20))
    set_now(app, None)  # back to the real last close
    assert no_header.get("/v3/snapshot/options/QQQ?limit=1").status_code == 200
    for bad in ("yesterday", "2017-06-01", "2099-01-02", "2099-01-02T10:00:00Z"):
        response = no_header.get("/fed/v1/treasury-yields?limit=1", {"X-Sim-Now": bad})
        assert response.status_code == 400 and response.json()["status"] == "ERROR", bad


def test_contracts_as_of_a_past_day(client: Client) -> None:
    url = "/v3/reference/options/contracts?underlying_ticker=SPY&as_of=2026-06-01&limit=1000"
    tickers = [r["ticker"] for page in client.pages(url) for r in page["results"]]
    snapshot = Client(client.app, now="2026-06-01")
    chain = [
        r["details"]["ticker"]
        for page in snapshot.pages("/v3/snapshot/options/SPY?limit=250")
        for r in page["results"]
    ]
    assert tickers == chain
    expired = client.json("/v3/reference/options/contracts?underlying_ticker=SPY&expired=true&limit=10")
    assert expired["results"] and all(r["expiration_date"] < DAY.isoformat() for r in expired["results"])
