"""What changed since a watermark: the trading days of the manifests the ledger recorded after it.

The ledger (``raw.smelt_loads``) is the one record of what reached the warehouse, and every manifest is one
dataset on one trading day (an ``option_bars`` backfill is split per bar day), so the days a build or a
publish must redo are the days of the ledger rows newer than the watermark it kept from its last success.
Reading the ledger costs what the ledger holds (one row per manifest), never what the landing tables hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workflows.warehouse.ddl import LEDGER


class _Fetches(Protocol):
    def fetch(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]: ...


@dataclass(frozen=True)
class Increment:
    """The trading days loaded after ``since`` (all days when ``since`` is None) and the new watermark."""

    since: dt.datetime | None
    days: tuple[dt.date, ...]
    watermark: dt.datetime | None  # the newest loaded_at seen: the next ``since`` once the work succeeded

    @property
    def empty(self) -> bool:
        return not self.days

    @property
    def first(self) -> dt.date | None:
        return self.days[0] if self.days else None


def increment_since(
    warehouse: _Fetches, since: dt.datetime | None, datasets: Sequence[str] | None = None
) -> Increment:
    """The days of the ledger rows loaded after ``since`` (of ``datasets`` only, when given)."""
    where = []
    if since is not None:
        if since.tzinfo is None:
            raise ValueError(
                "increment_since: the watermark must be timezone-aware (the ledger's loaded_at is)"
            )
        # a literal of our own making, not input: both warehouses' parameter styles differ
        where.append(f"loaded_at > '{since.astimezone(dt.UTC).isoformat()}'::timestamptz")
    if datasets:
        names = ", ".join(f"'{d}'" for d in datasets if d.isidentifier())
        where.append(f"dataset IN ({names})")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = warehouse.fetch(f"SELECT trade_date, max(loaded_at) FROM {LEDGER} {clause} GROUP BY trade_date")
    days = tuple(sorted(_date(day) for day, _ in rows))
    newest = max((_aware(at) for _, at in rows), default=None)
    watermark = max((w for w in (since, newest) if w is not None), default=None)
    return Increment(since, days, watermark)


def _date(value: Any) -> dt.date:
    return (
        value
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        else dt.date.fromisoformat(str(value)[:10])
    )


def _aware(value: Any) -> dt.datetime:
    at = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
