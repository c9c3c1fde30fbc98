"""Flat-file objects in a lake as the flat-file ingest lands them (issue 17's contract), for the loader tests.

One part per (dataset, day, run): the vendor's gzip CSV bytes verbatim, with a manifest whose ``stats`` hold
``format = "csv.gz"`` and the object's origin (bucket, key, ETag, last-modified, size). The warehouse tests
make their inputs here until they can take them from the ingest itself.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from workflows.lake import Lake, Manifest, PartInfo, part_key
from workflows.warehouse.flatfiles import FORMAT, HEADER

NEW_YORK = ZoneInfo("America/New_York")
VENDOR_KEYS = {
    "stock_day_aggs": "us_stocks_sip/day_aggs_v1/{d:%Y}/{d:%m}/{d:%Y-%m-%d}.csv.gz",
    "option_day_aggs": "us_options_opra/day_aggs_v1/{d:%Y}/{d:%m}/{d:%Y-%m-%d}.csv.gz",
}

#: (ticker, volume, open, close, high, low, transactions): window_start is the day's, added on writing.
Bar = tuple[str, int, float, float, float, float, int]


def window_start(day: dt.date) -> int:
    """Unix nanoseconds of 00:00 America/New_York of ``day``, as the vendor's files have it."""
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
    return int(midnight.timestamp()) * 1_000_000_000


def csv_body(day: dt.date, bars: Iterable[Bar], header: str = HEADER) -> bytes:
    """The gzip CSV a vendor file of ``day`` holds for ``bars``."""
    start = window_start(day)
    lines = [header] + [f"{t},{v},{o!r},{c!r},{h!r},{lo!r},{start},{n}" for t, v, o, c, h, lo, n in bars]
    return gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1)


def land_flatfile(
    lake: Lake,
    dataset: str,
    day: dt.date,
    body: bytes,
    *,
    rows: int,
    run_id: str,
    etag: str = '"0123456789abcdef"',
    last_modified: dt.datetime | None = None,
    source: str = "simulator",
) -> Manifest:
    """Store ``body`` as the day's one part and its manifest; ``rows`` is what the manifest claims."""
    key = part_key(dataset, day, None, run_id, 0)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "part.csv.gz"
        local.write_bytes(body)
        lake.storage.put_file(local, key)
    modified = last_modified or dt.datetime.combine(day + dt.timedelta(days=1), dt.time(16), dt.UTC)
    stats = {
        "format": FORMAT,
        "origin": {
            "bucket": "flatfiles",
            "key": VENDOR_KEYS[dataset].format(d=day),
            "etag": etag,
            "last_modified": modified.isoformat().replace("+00:00", "Z"),
            "size": len(body),
        },
    }
    part = PartInfo(key, rows, len(body), hashlib.sha256(body).hexdigest())
    created = modified.isoformat(timespec="milliseconds")
    manifest = Manifest(dataset, day, None, run_id, source, created, (part,), stats)
    lake.storage.put_exclusive(manifest.key, manifest.to_json())
    return manifest


def land_bars(lake: Lake, dataset: str, day: dt.date, bars: Sequence[Bar], **kwargs: Any) -> Manifest:
    """A well-formed flat file of ``bars`` for ``day``, landed with a manifest that counts them."""
    return land_flatfile(lake, dataset, day, csv_body(day, bars), rows=len(bars), **kwargs)
