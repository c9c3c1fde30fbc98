"""``next_url`` on the API's own hosts stays on a configured non-default base (proxy, mirror, simulator)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.polygon.support import CONTRACT, FAKE_KEY, FakeApi, drain, run_fake_time
from workflows.polygon import PolygonClient, PolygonPaginationError

PAGE_1 = "v3_reference_options_contracts.json"
PAGE_2 = "v3_reference_options_contracts__cursor-YXA9JTdCJTIySUQlMjIlM0ElMjIy.json"


class _Recorder(BaseHTTPRequestHandler):
    """Serves the two contract pages; records path and Authorization of every request it gets."""

    pages: dict[str, bytes]
    seen: list[tuple[str, str | None]]

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        body = self.pages["2" if "cursor=" in self.path else "1"]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_api(polygon_fixtures: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, list[Any]]]:
    """A real HTTP server on loopback answering with the fixture pages, their ``next_url`` on ``host``."""
    host = request.param
    first = json.loads((polygon_fixtures / PAGE_1).read_text())
    first["next_url"] = first["next_url"].replace("api.massive.com", host)
    seen: list[tuple[str, str | None]] = []
    handler = type(
        "Handler",
        (_Recorder,),
        {
            "pages": {"1": json.dumps(first).encode(), "2": (polygon_fixtures / PAGE_2).read_bytes()},
            "seen": seen,
        },
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("local_api", ["api.polygon.io", "api.massive.com"], indirect=True)
def test_every_page_comes_from_the_configured_local_server(local_api: tuple[str, list[Any]]) -> None:
    base, seen = local_api

    async def main() -> list[Any]:
        # The real network transport: a request to the API's host would fail here (no route), not be mocked.
        async with PolygonClient(base, FAKE_KEY, timeout=5) as client:
            return await drain(client.option_contracts("A"))

    pages = asyncio.run(main())
    assert [len(p.items) for p in pages] == [10, 10]
    assert [path for path, _ in seen] == [
        "/v3/reference/options/contracts?underlying_ticker=A&limit=1000",
        "/v3/reference/options/contracts?cursor=YXA9JTdCJTIySUQlMjIlM0ElMjIy",
    ]
    assert all(auth == f"Bearer {FAKE_KEY}" for _, auth in seen)
    assert all(p.url.startswith(base) for p in pages)


def _two_pages(next_url: str) -> FakeApi:
    def handler(request: httpx.Request) -> httpx.Response:
        body: dict[str, Any] = {"status": "OK", "request_id": "r", "results": [CONTRACT]}
        if "cursor" not in request.url.params:
            body["next_url"] = next_url
        return httpx.Response(200, json=body)

    return FakeApi(handler)


def test_a_base_with_a_path_prefix_keeps_its_prefix() -> None:
    api = _two_pages("https://api.polygon.io/v3/reference/options/contracts?cursor=c%2F2&limit=1000")

    async def main() -> None:
        async with api.client(base_url="http://proxy.local/polygon/") as client:
            await drain(client.option_contracts("SPY"))

    run_fake_time(main())
    assert api.urls == [
        "http://proxy.local/polygon/v3/reference/options/contracts?underlying_ticker=SPY&limit=1000",
        "http://proxy.local/polygon/v3/reference/options/contracts?cursor=c%2F2&limit=1000",
    ]
    assert all(r.headers["authorization"] == f"Bearer {FAKE_KEY}" for r in api.requests)


def test_the_real_host_default_follows_next_url_as_given() -> None:
    api = _two_pages("https://api.massive.com/v3/reference/options/contracts?cursor=c2")

    async def main() -> None:
        async with api.client(base_url="https://api.polygon.io") as client:
            await drain(client.option_contracts("SPY"))

    run_fake_time(main())
    assert [r.url.host for r in api.requests] == ["api.polygon.io", "api.massive.com"]


def test_a_next_url_on_any_other_host_is_still_refused() -> None:
    api = _two_pages("https://elsewhere.example.com/v3/reference/options/contracts?cursor=c2")

    async def main() -> None:
        async with api.client(base_url="http://proxy.local/polygon") as client:
            await drain(client.option_contracts("SPY"))

    with pytest.raises(PolygonPaginationError, match=r"not a trusted API host.*refusing to send the API key"):
        run_fake_time(main())
    assert [r.url.host for r in api.requests] == ["proxy.local"]
