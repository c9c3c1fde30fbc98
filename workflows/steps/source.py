"""Where market data comes from: Polygon, a served simulator, or the simulator inside this process.

The one place that decides the source. Every path returns the same HTTP client, so the code that pages,
retries and writes is the same whatever answers.
"""

from __future__ import annotations

import datetime as dt

from workflows import calendar
from workflows.lake import Source
from workflows.polygon import PolygonClient
from workflows.settings import Settings
from workflows.simulator.headers import FAULTS_HEADER, NOW_HEADER

#: The in-process simulator's address; it never resolves, the ASGI transport answers instead.
SIMULATOR_BASE_URL = "http://simulator.smelt.invalid"
#: The simulator wants some key, like Polygon; this one guards nothing and is safe to print.
SIMULATOR_KEY = "embedded-simulator-no-secret"


def source_label(settings: Settings) -> Source:
    """What ``_meta.source`` says on every landed row."""
    return "polygon" if settings.source == "polygon" else "simulator"


def open_client(settings: Settings, day: dt.date) -> PolygonClient:
    """A client for the configured source; the simulator's clock is set to ``day``'s close.

    ``SMELT_SIM_URL`` selects a served simulator (``smelt sim serve``, a Deployment in a cluster);
    without it the simulator runs in this process behind ``httpx.ASGITransport``.
    """
    if settings.source == "polygon":
        return PolygonClient.from_settings(settings)
    headers = {NOW_HEADER: day.isoformat()}
    if settings.sim_faults:
        headers[FAULTS_HEADER] = settings.sim_faults
    if settings.sim_url:
        return PolygonClient.from_settings(
            settings, headers=headers, base_url=settings.sim_url, api_key=SIMULATOR_KEY
        )
    from workflows import simulator

    return PolygonClient.from_settings(
        settings,
        transport=simulator.transport(
            seed=settings.sim_seed,
            market_size=settings.sim_market_size,
            now=settings.sim_now,
            snapshot_history=settings.sim_snapshot_history,
        ),
        headers=headers,
        base_url=SIMULATOR_BASE_URL,
        api_key=SIMULATOR_KEY,
    )


def snapshot_is_end_of_day(day: dt.date, now: dt.datetime | None = None) -> bool:
    """Polygon's chain snapshot shows ``day``'s close only between that close and the next open."""
    now = now or dt.datetime.now(dt.UTC)
    if not calendar.is_trading_day(day) or now < calendar.session_close(day):
        return False
    return calendar.last_completed_trading_day(now) == day and not calendar.session_is_open(now)


def source_now(settings: Settings) -> dt.datetime:
    """The source's clock: the real time, or the simulator's own (``SMELT_SIM_NOW``: just after that day's
    close), which a served simulator must be started with too."""
    if settings.source == "simulator" and settings.sim_now is not None:
        return calendar.session_close(settings.sim_now) + dt.timedelta(minutes=1)
    return dt.datetime.now(dt.UTC)


def has_snapshot(settings: Settings, day: dt.date) -> bool:
    """Whether the source's chain snapshot shows ``day``'s close. Like Polygon's, the simulator's knows only
    the latest session, unless told to replay history (``SMELT_SIM_SNAPSHOT_HISTORY``, for tests)."""
    if settings.source == "simulator" and settings.sim_snapshot_history:
        return True
    return snapshot_is_end_of_day(day, source_now(settings))


def snapshot_days(settings: Settings, days: list[dt.date]) -> list[dt.date]:
    """The days whose option chains come from the snapshot; the rest take the backfill path."""
    return [d for d in days if has_snapshot(settings, d)]
