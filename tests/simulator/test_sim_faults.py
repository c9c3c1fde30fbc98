"""Fault injection: every kind is observable, deterministic, counted, and storms always end."""

from __future__ import annotations

import json
import time

import pytest

from tests.simulator.support import Client
from workflows.simulator import Faults, FaultsError, create_app, set_faults

SNAPSHOT = "/v3/snapshot/options/AAPL?limit=5"

#: A cheap endpoint for tests of what every endpoint shares (auth, ids, faults).
CHEAP = "/fed/v1/treasury-yields?limit=1"


def statuses(client: Client, url: str, n: int, faults: str) -> list[int]:
    return [client.get(url, {"X-Sim-Faults": faults}).status_code for _ in range(n)]


def test_429_storm_honours_max_consecutive(client: Client) -> None:
    codes = statuses(client, SNAPSHOT, 8, "rate_429=1,retry_after=2,max_consecutive=3")
    assert codes == [429, 429, 429, 200, 429, 429, 429, 200]
    response = client.get(SNAPSHOT, {"X-Sim-Faults": "rate_429=1,retry_after=2"})
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    body = response.json()
    assert (
        body["status"] == "ERROR" and "exceeded the maximum requests" in body["error"] and body["request_id"]
    )
    stats = client.app.state.stats
    assert stats.faults["rate_429"] == 7 and stats.responses[429] == 7 and stats.faults_injected == 7


def test_partial_storm_never_fails_more_than_the_cap_in_a_row(client: Client) -> None:
    codes = statuses(client, SNAPSHOT, 200, "rate_429=0.6,error_5xx=0.2,max_consecutive=2")
    run = longest = 0
    for code in codes:
        run = run + 1 if code != 200 else 0
        longest = max(longest, run)
    assert longest == 2 and 0.3 < codes.count(200) / len(codes) < 0.6
    assert {c for c in codes if c != 200} <= {429, 500, 502, 503} and {500, 502, 503} & set(codes)


def test_fault_draws_are_deterministic_for_a_seed() -> None:
    def run(seed: int) -> list[int]:
        client = Client(create_app(seed=7, faults=Faults(rate_429=0.5, seed=seed)))
        return statuses(client, CHEAP, 30, "")

    assert run(1) == run(1) and run(1) != run(2)


def test_empty_429_and_no_retry_after(client: Client) -> None:
    response = client.get(SNAPSHOT, {"X-Sim-Faults": "rate_429=1,empty_429"})
    assert response.status_code == 429 and response.content == b"" and "Retry-After" not in response.headers


def test_5xx_and_html_504(client: Client) -> None:
    response = client.get(SNAPSHOT, {"X-Sim-Faults": "error_5xx=1"})
    assert response.status_code in (500, 502, 503) and response.json()["status"] == "ERROR"
    response = client.get(SNAPSHOT, {"X-Sim-Faults": "html_504=1"})
    assert response.status_code == 504 and response.headers["content-type"].startswith("text/html")
    assert "<title>504 Gateway Time-out</title>" in response.text


def test_truncated_body_is_a_200_that_does_not_parse(client: Client) -> None:
    response = client.get(SNAPSHOT, {"X-Sim-Faults": "truncate=1"})
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    whole = client.get(SNAPSHOT, {"X-Sim-Faults": "none"})
    assert len(response.content) == len(whole.content) // 2  # same request ids aside, the same size
    assert client.app.state.stats.faults["truncate"] == 1


def test_next_url_loop_points_the_last_page_at_itself(client: Client) -> None:
    url = "/v3/reference/options/contracts?underlying_ticker=SPY&expiration_date=2026-11-27&limit=1000"
    body = client.json(url, {"X-Sim-Faults": "next_url_loop"})
    assert body["next_url"] == "http://sim.test" + url
    again = client.json(body["next_url"], {"X-Sim-Faults": "next_url_loop"})
    assert again["next_url"] == body["next_url"] and again["results"] == body["results"]
    assert client.app.state.stats.faults["next_url_loop"] == 2


def test_dropped_and_retyped_fields(client: Client) -> None:
    faults = {"X-Sim-Faults": "drop=open_interest|vwap,retype=strike_price:str|volume:float"}
    body = client.json(SNAPSHOT, faults)
    for item in body["results"]:
        assert "open_interest" not in item and "vwap" not in item["day"]
        assert isinstance(item["details"]["strike_price"], str) and isinstance(item["day"]["volume"], float)
    contracts = client.json("/v3/reference/options/contracts?limit=3", faults)
    assert all(isinstance(r["strike_price"], str) for r in contracts["results"])
    half = client.json("/v3/snapshot/options/AAPL?limit=200", {"X-Sim-Faults": "drop=fmv,field_share=0.5"})
    dropped = sum("fmv" not in r for r in half["results"])
    assert 60 < dropped < 140
    clean = client.json(SNAPSHOT)
    assert all("open_interest" in r for r in clean["results"])


def test_latency_and_path_filter(client: Client) -> None:
    start = time.perf_counter()
    client.get(CHEAP, {"X-Sim-Faults": "latency_ms=60"})
    assert time.perf_counter() - start >= 0.06
    only_snapshots = "rate_429=1,paths=/v3/snapshot"
    assert client.get(CHEAP, {"X-Sim-Faults": only_snapshots}).status_code == 200
    assert client.get(SNAPSHOT, {"X-Sim-Faults": only_snapshots}).status_code == 429


def test_server_level_faults_and_header_override() -> None:
    app = create_app(seed=7, faults="html_504=1,max_consecutive=1")
    client = Client(app)
    assert [client.get(CHEAP).status_code for _ in range(4)] == [504, 200, 504, 200]
    assert client.get(CHEAP, {"X-Sim-Faults": "none"}).status_code == 200
    set_faults(app, None)
    assert client.get(CHEAP).status_code == 200
    assert client.get(CHEAP, {"X-Sim-Faults": "rate_429=2"}).status_code == 400


def test_faults_parse_and_print() -> None:
    faults = Faults.parse("rate_429=0.5,retry_after=2,max_consecutive=3,drop=a|b,retype=x:int,next_url_loop")
    assert faults == Faults(
        rate_429=0.5,
        retry_after=2.0,
        max_consecutive=3,
        drop=("a", "b"),
        retype=(("x", "int"),),
        next_url_loop=True,
    )
    assert Faults.parse(faults.to_header()) == faults
    assert Faults.parse("429=0.25,5xx=0.25").failure_share == 0.5
    for bad in ("rate_429=abc", "nonsense=1", "retype=x:complex", "truncate=1.5"):
        with pytest.raises(FaultsError):
            Faults.parse(bad)
