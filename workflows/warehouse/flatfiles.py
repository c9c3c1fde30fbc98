"""The flat-file CSV contract both loaders share: columns and types, the header check, the origin in the manifest.

A vendor flat file is landed verbatim (one gzip CSV object per day); the loaders type its columns on the way
in, with the types fixed here rather than sniffed, so a file whose shape drifts fails its manifest instead of
landing as something else. The header is checked here, once for both backends: DuckDB's reader and
Snowflake's ``SKIP_HEADER`` both skip it without looking at it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

from workflows.flatfiles.objects import COLUMNS as VENDOR_COLUMNS
from workflows.lake import FLATFILE_DATASETS, Manifest
from workflows.warehouse.base import ManifestLoadError

#: The manifest's ``stats.format`` of a flat-file dataset.
FORMAT = "csv.gz"

#: The DuckDB and Snowflake type of each of the vendor's columns.
_TYPES: dict[str, tuple[str, str]] = {
    "ticker": ("VARCHAR", "VARCHAR"),
    "volume": ("BIGINT", "NUMBER(38, 0)"),
    "open": ("DOUBLE", "FLOAT"),
    "close": ("DOUBLE", "FLOAT"),
    "high": ("DOUBLE", "FLOAT"),
    "low": ("DOUBLE", "FLOAT"),
    "window_start": ("BIGINT", "NUMBER(38, 0)"),
    "transactions": ("BIGINT", "NUMBER(38, 0)"),
}
#: The counts: whole numbers that both warehouses' casts to an integer type would round, so each loader refuses
#: a fractional one instead (DuckDB reads them as DOUBLE and checks; Snowflake's COPY fails its cast).
COUNTS: tuple[str, ...] = ("volume", "transactions")
#: The vendor's columns in file order (``workflows.flatfiles`` owns the order), with their two types.
COLUMNS: tuple[tuple[str, str, str], ...] = tuple((name, *_TYPES[name]) for name in VENDOR_COLUMNS)
COLUMN_NAMES: tuple[str, ...] = VENDOR_COLUMNS
HEADER = ",".join(COLUMN_NAMES)

#: The columns the loader adds to each CSV row (``source`` is the manifest's: polygon or simulator).
LINEAGE_COLUMNS: tuple[str, ...] = (
    "trade_date", "source", "source_file", "source_row", "source_etag", "source_last_modified", "loaded_at",
)  # fmt: skip
TABLE_COLUMNS: tuple[str, ...] = (*COLUMN_NAMES, *LINEAGE_COLUMNS)


@dataclass(frozen=True)
class Origin:
    """Where the vendor served the object from; a republished object has a new ETag and a newer time."""

    etag: str
    last_modified: dt.datetime


def is_flatfile(manifest: Manifest) -> bool:
    """Whether the manifest is a flat file; a flat-file dataset that says another format is refused."""
    flat = manifest.dataset in FLATFILE_DATASETS
    declared = manifest.stats.get("format")
    if flat and declared != FORMAT:
        raise ManifestLoadError(
            f"manifest {manifest.key} is of flat-file dataset {manifest.dataset} but its stats.format is "
            f"{declared!r}, not {FORMAT!r}: re-run the flat-file ingest for that day",
            retryable=False,
        )
    if not flat and declared == FORMAT:
        raise ManifestLoadError(
            f"manifest {manifest.key} says stats.format {FORMAT!r} but {manifest.dataset} is no flat-file "
            f"dataset ({', '.join(sorted(FLATFILE_DATASETS))})",
            retryable=False,
        )
    return flat


def origin(manifest: Manifest) -> Origin:
    """The manifest's ``stats.origin`` ETag and last-modified time; a missing or malformed one is refused."""
    found = manifest.stats.get("origin")
    etag = found.get("etag") if isinstance(found, dict) else None
    modified = found.get("last_modified") if isinstance(found, dict) else None
    when: dt.datetime | None = None
    if isinstance(modified, str):
        try:
            when = dt.datetime.fromisoformat(modified.replace("Z", "+00:00"))
        except ValueError:
            when = None
    if not (isinstance(etag, str) and etag) or when is None or when.tzinfo is None:
        raise ManifestLoadError(
            f"manifest {manifest.key} has no usable stats.origin (etag, last_modified as ISO-8601 UTC): "
            f"found {found!r}; re-run the flat-file ingest for that day",
            retryable=False,
        )
    return Origin(etag, when.astimezone(dt.UTC))


def check_header(local: Path, url: str) -> None:
    """Refuse a part whose first line is not the vendor's header, naming what it holds instead."""
    try:
        with gzip.open(local, "rt", encoding="utf-8", newline="") as fh:
            first = fh.readline(4096).rstrip("\r\n")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise ManifestLoadError(f"{url} is not a readable gzip CSV: {exc}", retryable=False) from None
    if first != HEADER:
        raise ManifestLoadError(
            f"{url} has header {first[:200]!r}, expected {HEADER!r}: the vendor changed the file's "
            "columns or the object is not a day-aggregates file; nothing of it was loaded",
            retryable=False,
        )
