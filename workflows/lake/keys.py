"""The lake's key layout: which datasets exist, where a part and a manifest of one unit live, run ids.

``raw/polygon/<dataset>/dt=YYYY-MM-DD/[underlying=U/]part-NNNNN-<run_id>.ndjson.gz`` and
``raw/_manifests/<dataset>/dt=YYYY-MM-DD/[underlying=U/]<run_id>.json`` (docs/architecture.md, "Lake keys").
A flat-file dataset's one part is the vendor's object verbatim, so it keeps the vendor's suffix (``.csv.gz``).
"""

from __future__ import annotations

import datetime as dt
import uuid

DATASETS: tuple[str, ...] = (
    "stock_bars",
    "stock_splits",
    "option_contracts",
    "option_snapshots",
    "option_bars",
    "stock_dividends",
    "treasury_yields",
    "option_greeks",
    "stock_day_aggs",
    "option_day_aggs",
)
#: Datasets landed as the vendor's flat files (one gzip CSV object per day, stored verbatim), not as API items.
FLATFILE_DATASETS: frozenset[str] = frozenset({"stock_day_aggs", "option_day_aggs"})
RAW_PREFIX = "raw/polygon"
MANIFEST_PREFIX = "raw/_manifests"


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id: ``20260105T211500Z-1a2b3c4d``."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def check_dataset(dataset: str) -> None:
    """Refuse a dataset name the lake does not know, before any key is built from it."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")


def _partition(dataset: str, day: dt.date, underlying: str | None) -> str:
    check_dataset(dataset)
    path = f"{dataset}/dt={day.isoformat()}"
    return f"{path}/underlying={underlying}" if underlying else path


def part_key(dataset: str, day: dt.date, underlying: str | None, run_id: str, index: int) -> str:
    suffix = "csv.gz" if dataset in FLATFILE_DATASETS else "ndjson.gz"
    return f"{RAW_PREFIX}/{_partition(dataset, day, underlying)}/part-{index:05d}-{run_id}.{suffix}"


def manifest_key(dataset: str, day: dt.date, underlying: str | None, run_id: str) -> str:
    return f"{MANIFEST_PREFIX}/{_partition(dataset, day, underlying)}/{run_id}.json"


def manifest_prefix(dataset: str | None = None, day: dt.date | None = None) -> str:
    if dataset is None:
        return f"{MANIFEST_PREFIX}/"
    check_dataset(dataset)
    if day is None:
        return f"{MANIFEST_PREFIX}/{dataset}/"
    return f"{MANIFEST_PREFIX}/{dataset}/dt={day.isoformat()}/"
