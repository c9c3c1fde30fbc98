"""The vendor's layout: which object holds a dataset's day, its CSV header, and when it is published.

Both sides read it, so the simulator publishes exactly what the ingest expects from Polygon.
"""

from __future__ import annotations

import datetime as dt

from workflows import calendar

#: Columns of every day-aggregates file, in this order, after one header line (issue 17 §2).
COLUMNS: tuple[str, ...] = (
    "ticker",
    "volume",
    "open",
    "close",
    "high",
    "low",
    "window_start",
    "transactions",
)
HEADER = ",".join(COLUMNS).encode() + b"\n"

#: ``--datasets`` names -> lake dataset and the vendor's key prefix.
DATASETS_BY_NAME: dict[str, tuple[str, str]] = {
    "stocks": ("stock_day_aggs", "us_stocks_sip/day_aggs_v1"),
    "options": ("option_day_aggs", "us_options_opra/day_aggs_v1"),
}
_PREFIX = dict(DATASETS_BY_NAME.values())

#: A day's files appear about 11:00 New York time the next calendar day.
PUBLISH_HOUR = 11


def dataset_names(names: str | None) -> tuple[str, ...]:
    """The lake datasets of a ``--datasets stocks,options`` value (default both), or ValueError naming it."""
    wanted = [n.strip().lower() for n in (names or "stocks,options").split(",") if n.strip()]
    unknown = [n for n in wanted if n not in DATASETS_BY_NAME]
    if unknown or not wanted:
        raise ValueError(
            f"unknown flat-file dataset(s) {', '.join(unknown) or repr(names)}; expected stocks, options or both"
        )
    return tuple(DATASETS_BY_NAME[n][0] for n in dict.fromkeys(wanted))


def vendor_key(dataset: str, day: dt.date) -> str:
    """``us_stocks_sip/day_aggs_v1/2026/11/2026-11-24.csv.gz`` for ``stock_day_aggs`` on that day."""
    try:
        prefix = _PREFIX[dataset]
    except KeyError:
        raise ValueError(
            f"{dataset!r} is not a flat-file dataset; expected one of {', '.join(_PREFIX)}"
        ) from None
    return f"{prefix}/{day:%Y/%m}/{day.isoformat()}.csv.gz"


def published_at(day: dt.date) -> dt.datetime:
    """When the vendor's files for ``day`` exist: 11:00 New York time the next calendar day (UTC)."""
    nextday = day + dt.timedelta(days=1)
    return dt.datetime.combine(nextday, dt.time(PUBLISH_HOUR), calendar.NEW_YORK).astimezone(dt.UTC)


def window_start_ns(day: dt.date) -> int:
    """``window_start`` of a day's row: 00:00 New York time of the trading day, in Unix nanoseconds."""
    return int(dt.datetime.combine(day, dt.time(0), calendar.NEW_YORK).timestamp()) * 1_000_000_000
