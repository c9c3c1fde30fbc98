"""An ingest step starts at most UNITS_AT_ONCE units: each started unit may hold an open gzip part, so a
whole-market day (15,000 units) must not start them all while the client lets only a few requests fly."""

from __future__ import annotations

import asyncio
import datetime as dt

from workflows.steps.units import UNITS_AT_ONCE, UnitReport, gather_units

DAY = dt.date(2026, 11, 20)


def test_units_run_a_bounded_number_at_a_time_and_all_finish() -> None:
    running, most = 0, 0

    async def unit(k: int) -> UnitReport:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.001 * (k % 3))  # units end out of order
        running -= 1
        return UnitReport("option_snapshots", DAY, f"U{k}", rows=1)

    units = asyncio.run(gather_units("ingest-options", DAY, [unit(k) for k in range(4 * UNITS_AT_ONCE + 7)]))
    assert len(units) == 4 * UNITS_AT_ONCE + 7 and sum(u.rows for u in units) == len(units)
    assert most == UNITS_AT_ONCE  # busy, but never more
