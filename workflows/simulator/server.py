"""Ways to run the simulator: an in-process httpx transport for tests and steps, or a uvicorn server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import httpx

from workflows.logs import get_logger
from workflows.settings import DEFAULT_UNDERLYINGS
from workflows.simulator.app import create_app
from workflows.simulator.faults import Faults


def transport(seed: int = 7, faults: Faults | str | None = None, **kwargs: Any) -> httpx.ASGITransport:
    """An httpx transport that answers in-process (``httpx.AsyncClient(transport=..., base_url=...)``).

    ``kwargs`` go to :func:`create_app` (underlyings, market_size, api_key, now, universe); the app is
    ``transport.app`` (its stats at ``transport.app.state.stats``).
    """
    return httpx.ASGITransport(app=create_app(seed=seed, faults=faults, **kwargs))


def serve(
    host: str = "127.0.0.1",
    port: int = 8700,
    seed: int = 7,
    faults: Faults | str | None = None,
    *,
    underlyings: Sequence[str] = DEFAULT_UNDERLYINGS,
    market_size: int = 3000,
    api_key: str | None = None,
    now: str | dt.date | dt.datetime | None = None,
    log_level: str = "info",
    snapshot_history: bool = False,
    universe: str = "default",
) -> None:
    """Serve the simulator over HTTP until interrupted (what ``smelt sim serve`` runs)."""
    import uvicorn

    app = create_app(seed, underlyings, market_size, faults, api_key, now, snapshot_history, universe)
    fault_text = app.state.sim.faults.to_header()
    get_logger("smelt.simulator").info(
        "simulator listening",
        url=f"http://{host}:{port}",
        seed=seed,
        faults=fault_text,
        now=str(now or "last close"),
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=log_level == "debug")
