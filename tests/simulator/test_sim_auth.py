"""Auth like Polygon, request ids, byte-for-byte determinism, and the in-process and server entry points."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.simulator.support import Client
from workflows.simulator import Faults, create_app, serve, transport

URLS = (
    "/v2/aggs/grouped/locale/us/market/stocks/2026-11-24?adjusted=false",
    "/v2/aggs/ticker/NVDA/range/1/day/2026-10-01/2026-11-24",
    "/v3/reference/options/contracts?underlying_ticker=IWM&limit=50",
    "/v3/snapshot/options/QQQ?limit=250",
    "/v3/reference/splits?limit=50",
)

#: A cheap endpoint for tests of what every endpoint shares (auth, ids, faults).
CHEAP = "/fed/v1/treasury-yields?limit=1"


def test_missing_key_is_401(app: Starlette) -> None:
    anonymous = Client(app, key=None)
    response = anonymous.get("/v3/snapshot/options/AAPL")
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == "ERROR" and body["error"] == "API Key was not provided" and body["request_id"]
    assert anonymous.get("/v3/snapshot/options/AAPL?limit=1&apiKey=anything").status_code == 200
    assert Client(app, key="any-key").get("/v3/snapshot/options/AAPL?limit=1").status_code == 200
    assert anonymous.get("/no/such/path").status_code == 401  # auth comes first, like the API


def test_configured_key_must_match() -> None:
    app = create_app(seed=7, api_key="right-key")
    assert Client(app, key="right-key").get(CHEAP).status_code == 200
    wrong = Client(app, key="wrong-key").get(CHEAP)
    assert wrong.status_code == 401 and wrong.json()["error"] == "Unknown API Key"
    assert "right-key" not in wrong.text and "wrong-key" not in wrong.text


def test_same_seed_same_bytes() -> None:
    first, second = Client(create_app(seed=7)), Client(create_app(seed=7))
    for url in URLS:
        a, b = first.get(url), second.get(url)
        assert a.status_code == 200 and a.content == b.content, url


def test_request_ids_are_unique(client: Client) -> None:
    ids = {client.get(CHEAP).headers["X-Request-Id"] for _ in range(20)}
    ids |= {client.json("/v3/snapshot/options/AAPL?limit=1")["request_id"] for _ in range(20)}
    assert len(ids) == 40 and all(len(i) == 32 for i in ids)


def test_transport_helper_and_stats() -> None:
    async def main() -> tuple[int, int]:
        sim = transport(seed=7, faults="rate_429=1,max_consecutive=1")
        async with httpx.AsyncClient(transport=sim, base_url="http://sim.test") as client:
            headers = {"Authorization": "Bearer k", "X-Sim-Now": "2026-11-24"}
            first = await client.get(CHEAP, headers=headers)
            second = await client.get(CHEAP, headers=headers)
            stats = await client.get("/_sim/stats")
        assert stats.json()["faults_injected"] == 1
        return first.status_code, second.status_code

    assert asyncio.run(main()) == (429, 200)


def test_served_over_http_links_back_to_the_server() -> None:
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(seed=7), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        headers = {"Authorization": "Bearer k", "X-Sim-Now": "2026-11-24"}
        body = httpx.get(f"http://127.0.0.1:{port}/v3/snapshot/options/AAPL?limit=2", headers=headers).json()
        assert body["next_url"].startswith(f"http://127.0.0.1:{port}/v3/snapshot/options/AAPL?cursor=")
        assert httpx.get(body["next_url"], headers=headers).json()["results"]
    finally:
        server.should_exit = True
        thread.join(10)


def test_serve_runs_uvicorn_with_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    serve(port=8799, seed=3, faults="rate_429=0.5,retry_after=1")
    assert seen["port"] == 8799 and seen["host"] == "127.0.0.1"
    assert seen["app"].state.sim.faults == Faults(rate_429=0.5, retry_after=1.0)
    assert seen["app"].state.market.seed == 3
