"""A Polygon-compatible market simulator: deterministic prices, option chains with Greeks, and faults.

It answers the endpoints smelt uses (grouped daily and range aggregates, option contracts, the chain
snapshot, splits, dividends, Treasury yields) with the API's envelopes, field names, types and units, so the pipeline can
run end to end with no key and no network, and its client can be tested against 429 storms, 5xx, HTML 504s,
truncated bodies, looping ``next_url`` and malformed items.

* ``create_app(seed, underlyings, market_size, faults, api_key, now)``: the Starlette app; its counters are
  ``app.state.stats`` (also ``GET /_sim/stats``, without auth), its clock ``set_now(app, ...)``.
* ``transport(seed, faults, **kw)``: an in-process ``httpx.ASGITransport`` around a new app.
* ``serve(host, port, seed, faults, ...)``: run it under uvicorn.
* ``Faults``: what to break, per app or per request (header ``X-Sim-Faults``, syntax in ``faults``).
* Header ``X-Sim-Now``: the simulated now of one request (``2026-11-24`` = that day's close, or an ISO
  datetime); the default is the close of the last completed NYSE session.
* ``Market`` / ``OptionMarket``: the pure models (no HTTP).
"""

from importlib import import_module
from typing import Any

from workflows.simulator.headers import FAULTS_HEADER, NOW_HEADER

# Everything else loads on first use: a client of a served simulator needs the headers, not numpy/scipy.
_LAZY = {
    "SimStats": "app", "create_app": "app", "release_models": "app", "set_faults": "app", "set_now": "app",
    "Faults": "faults", "FaultsError": "faults", "Market": "market", "OptionMarket": "options",
    "serve": "server", "transport": "server",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"workflows.simulator.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'workflows.simulator' has no attribute {name!r}")


__all__ = [
    "FAULTS_HEADER",
    "NOW_HEADER",
    "Faults",
    "FaultsError",
    "Market",
    "OptionMarket",
    "SimStats",
    "create_app",
    "release_models",
    "serve",
    "set_faults",
    "set_now",
    "transport",
]
