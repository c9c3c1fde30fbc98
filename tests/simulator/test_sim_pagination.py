"""``next_url`` pagination: absolute, key-free, opaque, and covering every item exactly once."""

from __future__ import annotations

import base64
from collections import Counter

from starlette.applications import Starlette

from tests.simulator.support import BASE, DAY, Client
from workflows.simulator import Market, OptionMarket


def test_contracts_pages_cover_every_contract_once(client: Client) -> None:
    pages = list(client.pages("/v3/reference/options/contracts?underlying_ticker=MSFT&limit=97"))
    tickers = [r["ticker"] for page in pages for r in page["results"]]
    market = client.app.state.options
    expected = market.contracts("MSFT", DAY).tickers
    assert Counter(tickers) == Counter(expected) and len(tickers) == len(expected)
    assert tickers == sorted(tickers)  # default sort: ticker ascending
    assert all(len(page["results"]) == 97 for page in pages[:-1])
    for page in pages[:-1]:
        assert page["next_url"].startswith(f"{BASE}/v3/reference/options/contracts?cursor=")


def test_chain_pages_cover_every_contract_once(client: Client) -> None:
    pages = list(client.pages("/v3/snapshot/options/SPY?limit=250"))
    tickers = [r["details"]["ticker"] for page in pages for r in page["results"]]
    chain = client.app.state.options.chain("SPY", DAY)
    assert tickers == chain.contracts.tickers
    assert len(tickers) == len(set(tickers)) > 250 and len(pages) == -(-len(tickers) // 250)


def test_filters_travel_in_the_cursor_not_the_url(client: Client) -> None:
    url = "/v3/snapshot/options/AAPL?limit=20&contract_type=put&expiration_date.gte=2026-12-01"
    pages = list(client.pages(url))
    items = [r for page in pages for r in page["results"]]
    assert len(pages) > 1
    assert all(r["details"]["contract_type"] == "put" for r in items)
    assert all(r["details"]["expiration_date"] >= "2026-12-01" for r in items)
    next_url = pages[0]["next_url"]
    assert "contract_type" not in next_url and "limit" not in next_url
    cursor = next_url.split("cursor=")[1]
    assert b"contract_type" in base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def test_next_url_never_carries_the_key_and_pins_the_day(app: Starlette) -> None:
    client = Client(app, key=None, now="2026-11-20")
    first = client.json("/v3/snapshot/options/AAPL?limit=5&apiKey=secret-key-123")
    assert "secret-key-123" not in first["next_url"] and "apiKey" not in first["next_url"]
    # The next page keeps the first page's day even if the client's "now" moved meanwhile.
    later = Client(app, key="secret-key-123", now="2026-11-24")
    second = later.json(first["next_url"])
    day_ns = {r["day"]["last_updated"] for r in first["results"] + second["results"]}
    assert len(day_ns) == 1


def test_range_aggs_paginate_past_the_limit(client: Client) -> None:
    pages = list(client.pages("/v2/aggs/ticker/SPY/range/1/day/2026-01-01/2026-11-24?limit=50"))
    bars = [b for page in pages for b in page["results"]]
    one = client.json("/v2/aggs/ticker/SPY/range/1/day/2026-01-01/2026-11-24")
    assert bars == one["results"] and len(pages) == -(-len(bars) // 50)
    desc = client.json("/v2/aggs/ticker/SPY/range/1/day/2026-01-01/2026-11-24?sort=desc")
    assert desc["results"] == bars[::-1]


def test_all_underlyings_contracts_are_sorted_by_ticker(client: Client) -> None:
    body = client.json("/v3/reference/options/contracts?limit=1000")
    tickers = [r["ticker"] for r in body["results"]]
    assert tickers == sorted(tickers) and "next_url" in body
    assert {r["underlying_ticker"] for r in body["results"]} <= {"AAPL", "AMD", "AMZN", "AVGO"}


def test_models_do_not_depend_on_request_order() -> None:
    a, b = Market(seed=11, market_size=200), Market(seed=11, market_size=50)
    chain_b = OptionMarket(b).chain("NVDA", DAY)  # before anything else is computed
    assert a.cross_section(DAY) is not None
    series = a.series("NVDA")
    assert series is not None and b.series("NVDA") is not None
    options_a = OptionMarket(a)
    options_a.history("O:NVDA261218C00200000", DAY, DAY)
    chain_a = options_a.chain("NVDA", DAY)
    assert chain_a is not None and chain_b is not None
    assert chain_a.contracts.tickers == chain_b.contracts.tickers
    assert (chain_a.quotes.close == chain_b.quotes.close).all()
