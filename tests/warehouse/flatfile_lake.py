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
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from workflows.lake import Lake, Manifest, PartInfo, part_key
from workflows.warehouse import Warehouse, load
from workflows.warehouse.flatfiles import FORMAT, HEADER

NEW_YORK = ZoneInfo("America/New_York")
VENDOR_KEYS = {
    "stock_day_aggs": "us_stocks_sip/day_aggs_v1/{d:%Y}/{d:%m}/{d:%Y-%m-%d}.csv.gz",
    "option_day_aggs": "us_options_opra/day_aggs_v1/{d:%Y}/{d:%m}/{d:%Y-%m-%d}.csv.gz",
}

#: (ticker, volume, open, close, high, low, transactions): window_start is the day's, added on writing.
Bar = tuple[str, int, float, float, float, float, int]

DAY = dt.date(2026, 1, 5)
RUN = "20260106T160000Z-0000c5v1"
STOCKS = [
    ("AAPL", 51_234_567, 243.1, 245.04, 246.2, 242.05, 612_345),
    ("SPY", 80_000_001, 590.0, 591.5, 592.25, 589.1, 1_000_000),
]
OPTIONS = [
    ("O:AAPL260116C00250000", 1_234, 3.1, 2.95, 3.4, 2.8, 321),
    ("O:SPY260105P00590000", 99_000, 1.05, 0.75, 1.3, 0.6, 8_765),
    ("O:BRKB1260220C00500000", 1, 0.5, 0.5, 0.5, 0.5, 1),
]


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


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode())


GOOD_ROW = f"AAPL,100,1.0,1.1,1.2,0.9,{window_start(DAY)},7"
BAD_FILES = {
    "a value of the wrong type": (_gz(f"{HEADER}\n{GOOD_ROW}\nMSFT,lots,1.0,1.1,1.2,0.9,1,7\n"), 2, "lots"),
    "a fractional volume": (_gz(f"{HEADER}\n{GOOD_ROW}\nMSFT,10.5,1.0,1.1,1.2,0.9,1,7\n"), 2,
                            "volume 10.5 of MSFT on data row 2 is not a whole number"),
    "an empty count": (_gz(f"{HEADER}\n{GOOD_ROW}\nMSFT,100,1.0,1.1,1.2,0.9,1,\n"), 2, "NOT NULL"),
    "a wrong header": (_gz(f"ticker,volume,open,high,low,close,window_start,transactions\n{GOOD_ROW}\n"), 1,
                       "header 'ticker,volume,open,high,low,close"),
    "no header": (_gz(f"{GOOD_ROW}\n"), 1, "has header 'AAPL,100"),
    "a row with a ninth field": (_gz(f"{HEADER}\n{GOOD_ROW}\n{GOOD_ROW},3\n"), 2, "not valid gzip CSV"),
    "a row with seven fields": (_gz(f"{HEADER}\n{GOOD_ROW}\nMSFT,100,1.0,1.1,1.2,0.9,1\n"), 2, "not valid gzip CSV"),
    "an empty field": (_gz(f"{HEADER}\n{GOOD_ROW}\nMSFT,100,,1.1,1.2,0.9,1,7\n"), 2, "NOT NULL"),
    "not gzip": (f"{HEADER}\n{GOOD_ROW}\n".encode(), 1, "not a readable gzip CSV"),
    "a row count the manifest does not claim": (_gz(f"{HEADER}\n{GOOD_ROW}\n"), 2, "holds 1 lines but its manifest says 2"),
}  # fmt: skip


def load_a_bad_day(
    warehouse: Warehouse, lake: Lake, body: bytes, rows: int, query: Callable[..., list[tuple[Any, ...]]]
) -> tuple[str, Manifest]:
    """Land a good stock file and the options file ``body`` for DAY and load the day: only the stock file
    loads, the options manifest fails for good and leaves no row and no ledger entry. Returns its message."""
    good = land_bars(lake, "stock_day_aggs", DAY, STOCKS, run_id=RUN)
    bad = land_flatfile(lake, "option_day_aggs", DAY, body, rows=rows, run_id=RUN)
    report = load(warehouse, lake, DAY)
    assert [r.key for r in report.loaded] == [good.key]
    [failed] = report.failed
    assert failed.key == bad.key and failed.retryable is False, failed
    assert "cannot load option_day_aggs for 2026-01-05" in (failed.message or "")
    assert query("select count(*) from raw.polygon_option_day_aggs") == [(0,)]
    assert query("select count(*) from raw.smelt_loads where dataset = 'option_day_aggs'") == [(0,)]
    return failed.message or "", bad
