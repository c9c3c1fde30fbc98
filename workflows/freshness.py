"""Source freshness judged by what the data in hand is expected to have, with failures that say why.

``dbt source freshness`` checks every source with a threshold. Not every source is expected to have rows:
chain snapshots exist only where daily snapshot runs happen, and a history built by backfills has option
bars instead (and the other way round), and one built from flat files has their stock day aggregates instead
of the REST grouped bars. So a source in :data:`OPTIONAL` with no rows at all is not judged, nor one in
:data:`FILLED_BY` whose alternative has rows; every other source is, by its newest row's load time. A failure names the source, its newest row, its age
and the threshold, instead of dbt's empty reason for a source that has nothing to measure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

#: Sources that only some kinds of runs fill: daily snapshot runs, or backfills (REST range bars or flat files).
OPTIONAL = frozenset(
    {"polygon_option_snapshots", "polygon_option_bars", "polygon_stock_day_aggs", "polygon_option_day_aggs"}
)

#: Sources whose data may arrive through another source instead (the flat files' day aggregates).
FILLED_BY: dict[str, tuple[str, ...]] = {"polygon_stock_bars": ("polygon_stock_day_aggs",)}


@dataclass(frozen=True)
class Verdict:
    source: str
    status: str  # pass, warn, error, or skipped (optional and empty)
    message: str


def judge(results: list[Any]) -> list[Verdict]:
    """A verdict per source from dbt's freshness results (``dbtRunnerResult.result.results``)."""
    filled = {_name(r) for r in results if not _empty(r)}
    return [_verdict(r, filled) for r in results]


def _name(result: Any) -> str:
    node = getattr(result, "node", None)
    return getattr(node, "name", None) or str(getattr(result, "unique_id", "?"))


def _empty(result: Any) -> bool:
    newest = getattr(result, "max_loaded_at", None)
    return newest is None or newest.year < 1971


def _verdict(result: Any, filled: set[str]) -> Verdict:
    node = getattr(result, "node", None)
    name = _name(result)
    source = f"{getattr(node, 'source_name', 'polygon')}.{name}"
    status = str(getattr(result.status, "value", result.status))
    newest = getattr(result, "max_loaded_at", None)
    empty = _empty(result)
    if empty and name in OPTIONAL:
        return Verdict(source, "skipped", f"source {source}: no rows, and none expected (filled only by "
                                          "snapshot runs or by backfills)")  # fmt: skip
    instead = [other for other in FILLED_BY.get(name, ()) if other in filled]
    if empty and instead:
        return Verdict(source, "skipped", f"source {source}: no rows; {', '.join(instead)} has its data "
                                          "(flat files) and is judged instead")  # fmt: skip
    threshold = _threshold(node, status)
    if newest is None or empty:
        return Verdict(source, "error" if status != "pass" else status, f"source {source}: no rows at all; "
                       f"{threshold}")  # fmt: skip
    age = float(getattr(result, "age", 0.0) or 0.0)
    when = newest.astimezone(dt.UTC) if newest.tzinfo else newest.replace(tzinfo=dt.UTC)
    message = (
        f"source {source}: newest row loaded {when:%Y-%m-%d %H:%M} UTC, {age / 3600:.1f} hours "
        f"({age / 86400:.1f} days) old; {threshold}"
    )
    if status == "runtime error":
        message += f"; dbt: {(getattr(result, 'message', '') or '').strip()[:200]}"
        status = "error"
    return Verdict(source, status, message)


def _threshold(node: Any, status: str) -> str:
    freshness = getattr(node, "freshness", None)
    parts = []
    for label in ("warn_after", "error_after"):
        limit = getattr(freshness, label, None)
        count, period = getattr(limit, "count", None), getattr(limit, "period", None)
        if count is not None and period is not None:
            parts.append(f"{label.replace('_', ' ')} {count} {getattr(period, 'value', period)}s")
    return ("threshold: " + ", ".join(parts)) if parts else f"status {status}"
