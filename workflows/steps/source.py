"""Where market data comes from: Polygon, a served simulator, or the simulator inside this process.

The one place that decides the source. Every path returns the same HTTP client, so the code that pages,
retries and writes is the same whatever answers. Which path a day's chains take is the plan's (plan.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workflows.lake import Source
from workflows.polygon import PolygonClient
from workflows.settings import Settings
from workflows.simulator.headers import FAULTS_HEADER, NOW_HEADER

#: The in-process simulator's address; it never resolves, the ASGI transport answers instead.
SIMULATOR_BASE_URL = "http://simulator.smelt.invalid"
#: The simulator wants some key, like Polygon; this one guards nothing and is safe to print.
SIMULATOR_KEY = "embedded-simulator-no-secret"

#: Why only the embedded demo replays past days' snapshots (decision 107).
REPLAY_NEEDS_EMBEDDED = (
    "a daily run is replayed only by the in-process simulator (SMELT_SOURCE=simulator without SMELT_SIM_URL): "
    "Polygon's and a served simulator's chain snapshot show only their latest session"
)


def source_label(settings: Settings) -> Source:
    """What ``_meta.source`` says on every landed row."""
    return "polygon" if settings.source == "polygon" else "simulator"


def open_client(settings: Settings, day: dt.date, *, replay: bool = False) -> PolygonClient:
    """A client for the configured source; the simulator's clock is set to ``day``'s close.

    ``SMELT_SIM_URL`` selects a served simulator (``smelt sim serve``, a Deployment in a cluster);
    without it the simulator runs in this process behind ``httpx.ASGITransport``. ``replay`` (the in-process
    simulator only) sets the simulator's own clock to ``day`` as well, so its chain snapshot shows that day,
    as it did on the evening of a daily run (decision 107).
    """
    if replay and (settings.source != "simulator" or settings.simulator.url):
        raise ValueError(REPLAY_NEEDS_EMBEDDED)
    if settings.source == "polygon":
        return PolygonClient.from_settings(settings)
    headers = {NOW_HEADER: day.isoformat()}
    if settings.simulator.faults:
        headers[FAULTS_HEADER] = settings.simulator.faults
    if settings.simulator.url:
        return PolygonClient.from_settings(
            settings, headers=headers, base_url=settings.simulator.url, api_key=SIMULATOR_KEY
        )
    from workflows import simulator

    return PolygonClient.from_settings(
        settings,
        transport=simulator.transport(**(embedded_simulator(settings) | ({"now": day} if replay else {}))),
        headers=headers,
        base_url=SIMULATOR_BASE_URL,
        api_key=SIMULATOR_KEY,
    )


def embedded_simulator(settings: Settings) -> dict[str, Any]:
    """The in-process simulator's parameters: the REST transport and the flat-file publisher must build the
    same market from them (they share its cached models)."""
    sim = settings.simulator
    return {
        "seed": sim.seed,
        "market_size": sim.market_size,
        "universe": sim.universe,
        "now": sim.now,
        "snapshot_history": sim.snapshot_history,
    }
