"""A synchronous in-process client for the simulator tests and a fixed simulated "now"."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
from starlette.applications import Starlette

#: A fixed "now" so the tests do not depend on the real date (a Tuesday, two days before Thanksgiving).
NOW = "2026-11-24"
DAY = dt.date(2026, 11, 24)
BASE = "http://sim.test"


class Client:
    """Synchronous calls into an app through ``httpx.ASGITransport`` (one event loop per call)."""

    def __init__(self, app: Starlette, key: str | None = "test-key", now: str | None = NOW) -> None:
        self.app = app
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        if now:
            self.headers["X-Sim-Now"] = now

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        return asyncio.run(self._get(url, {**self.headers, **(headers or {})}))

    async def _get(self, url: str, headers: dict[str, str]) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return await client.get(url, headers=headers)

    def json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        response = self.get(url, headers)
        assert response.status_code == 200, response.text
        return response.json()

    def pages(self, url: str, headers: Mapping[str, str] | None = None) -> Iterator[Any]:
        """Follow ``next_url`` to the end, yielding each page's body."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url:
            assert next_url not in seen, f"next_url loops: {next_url}"
            seen.add(next_url)
            body = self.json(next_url, headers)
            yield body
            next_url = body.get("next_url")
