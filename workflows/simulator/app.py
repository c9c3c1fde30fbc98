"""The Polygon-compatible HTTP app: its routes, and the knobs a test turns (clock, faults).

Handlers (``workflows.simulator.handlers``) are plain functions from a request context to a JSON body; one
dispatcher around them (``workflows.simulator.http.dispatch``) does what every endpoint shares: request ids,
auth, fault injection, ``next_url``, serialisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.routing import Route

from workflows.settings import DEFAULT_UNDERLYINGS
from workflows.simulator import clock
from workflows.simulator.faults import Faults
from workflows.simulator.handlers.options import chain_snapshot, options_contracts
from workflows.simulator.handlers.rates import treasury_yields
from workflows.simulator.handlers.stocks import aggregates, grouped_daily, stock_dividends, stock_splits
from workflows.simulator.http.dispatch import not_found, route, stats
from workflows.simulator.http.state import SimStats, Simulator, models, release_models

__all__ = ["SimStats", "create_app", "models", "release_models", "set_faults", "set_now"]


def create_app(
    seed: int = 7,
    underlyings: Sequence[str] = DEFAULT_UNDERLYINGS,
    market_size: int = 3000,
    faults: Faults | str | None = None,
    api_key: str | None = None,
    now: str | dt.date | dt.datetime | None = None,
    snapshot_history: bool = False,
    universe: str = "default",
) -> Starlette:
    """A Polygon-compatible ASGI app over a deterministic market (see the package docstring).

    ``now`` is the server's own clock (default: the real time): the chain snapshot shows the latest session
    at that clock only, like the vendor's; ``snapshot_history=True`` lets ``X-Sim-Now`` replay any day's.
    ``universe="market"`` serves the whole optionable market (``SMELT_SIM_UNIVERSE``, see ``universe.py``).
    """
    if isinstance(faults, str):
        faults = Faults.parse(faults)
    sim = Simulator(seed, underlyings, market_size, faults or Faults(), api_key, snapshot_history, universe)
    routes = [
        Route("/_sim/stats", stats, methods=["GET"], name="stats"),
        route("/v2/aggs/grouped/locale/us/market/stocks/{date}", grouped_daily, "grouped_daily"),
        route(
            "/v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{start}/{end}", aggregates, "aggregates"
        ),
        route("/v3/reference/options/contracts", options_contracts, "options_contracts"),
        route("/v3/snapshot/options/{underlying}", chain_snapshot, "chain_snapshot"),
        route("/v3/reference/splits", stock_splits, "splits"),
        route("/v3/reference/dividends", stock_dividends, "dividends"),
        route("/fed/v1/treasury-yields", treasury_yields, "treasury_yields"),
        route("/{path:path}", not_found, "not_found"),
    ]
    app = Starlette(routes=routes)
    app.state.sim = sim
    app.state.stats = sim.stats
    app.state.market = sim.market
    app.state.options = sim.options
    app.state.now = None
    if now is not None:
        set_now(app, now)
    return app


def set_now(app: Starlette, value: str | dt.date | dt.datetime | None) -> None:
    """Set (or with None, reset to the real last close) the simulated "now" of an app."""
    app.state.now = None if value is None else clock.parse_now(value)


def set_faults(app: Starlette, faults: Faults | str | None) -> None:
    """Replace an app's server-level faults."""
    sim: Simulator = app.state.sim
    sim.faults = Faults.parse(faults) if isinstance(faults, str) else faults or Faults()
