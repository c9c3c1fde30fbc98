"""The models an app serves (shared by apps with the same parameters) and one app's own state.

The market's price history is hundreds of MB, so apps with the same seed, universe and size share one
``Models``; faults, key, clock and counters stay per app.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from starlette.requests import Request

from workflows.simulator.faults import FaultPlan, Faults
from workflows.simulator.headers import NOW_HEADER
from workflows.simulator.http.replies import Raw
from workflows.simulator.http.requests import request_key
from workflows.simulator.market import LRU, Market
from workflows.simulator.options import Contracts, OptionMarket


@dataclass
class SimStats:
    """Counters a test can read from ``app.state.stats``."""

    requests: int = 0
    responses: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    endpoints: Counter[str] = field(default_factory=Counter)

    @property
    def faults_injected(self) -> int:
        return sum(self.faults.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "responses": {str(k): v for k, v in sorted(self.responses.items())},
            "faults": dict(sorted(self.faults.items())),
            "faults_injected": self.faults_injected,
            "endpoints": dict(sorted(self.endpoints.items())),
        }


@dataclass(frozen=True)
class Listing:
    """The answer to one contracts query, all pages of it: tables and the (table, row) of each item."""

    tables: list[Contracts]
    rows: list[tuple[int, int]]


class Models:
    """The market, its option chains and rendered-item caches; shared by apps with the same parameters."""

    def __init__(self, seed: int, underlyings: tuple[str, ...], market_size: int, universe: str) -> None:
        self.market = Market(seed, underlyings, market_size, universe)
        self.options = OptionMarket(self.market)
        self.chain_items: LRU[tuple[str, dt.date], tuple[Raw, dict[str, int]]] = LRU(32)
        self.grouped_items: LRU[tuple[dt.date, bool, dt.date], Raw] = LRU(16)
        self.listings: LRU[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], Listing] = LRU(4)


@lru_cache(maxsize=3)
def models(seed: int, underlyings: tuple[str, ...], market_size: int, universe: str = "default") -> Models:
    return Models(seed, underlyings, market_size, universe)


def release_models() -> None:
    """Drop the cached market models (hundreds of MB of price history) once a process is done ingesting."""
    models.cache_clear()


class Simulator:
    """Per-app state: the shared models plus this app's faults, key, clock, stats and request counter."""

    def __init__(
        self,
        seed: int,
        underlyings: Sequence[str],
        market_size: int,
        faults: Faults,
        api_key: str | None,
        snapshot_history: bool = False,
        universe: str = "default",
    ) -> None:
        self.seed = seed
        self.snapshot_history = snapshot_history
        self.models = models(
            seed, tuple(dict.fromkeys(t.upper() for t in underlyings)), market_size, universe
        )
        self.market = self.models.market
        self.options = self.models.options
        self.faults = faults
        self.api_key = api_key
        self.stats = SimStats()
        self.plan = FaultPlan(seed)

    def request_id(self, request: Request) -> str:
        """Unique within the app (a counter), repeatable for a seed, and different for different requests."""
        now = request.headers.get(NOW_HEADER, "")
        text = f"{self.seed}:{self.stats.requests}:{request_key(request)}:{now}".encode()
        return hashlib.blake2b(text, digest_size=16).hexdigest()
