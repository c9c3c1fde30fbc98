"""The seam between the load step and a warehouse, and the backend-independent load of one day.

A backend only knows how to create its landing tables, which manifests its ledger holds, and how to load
one manifest atomically. Listing the day, skipping what is done, fanning out, collecting failures and
logging are the same for DuckDB and Snowflake, so they live here once.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from workflows.lake import DATASETS, Lake, LakeError
from workflows.logs import get_logger

Status = Literal["loaded", "skipped", "failed"]

#: Manifests loaded at once. Each gzip part is decompressed on one core, so a second manifest in flight
#: keeps a second core busy; more than a few only adds contention.
DEFAULT_WORKERS = min(4, os.cpu_count() or 1)

log = get_logger(__name__)


class LoadError(RuntimeError):
    """Loading failed; the message names the day, dataset, file and cause."""


class ManifestLoadError(LoadError):
    """One manifest could not be loaded; nothing of it was written."""


@dataclass(frozen=True)
class LoadResult:
    """What happened to one manifest."""

    key: str
    dataset: str
    trade_date: dt.date
    underlying: str | None
    status: Status
    files: int = 0
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    message: str | None = None

    def log_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "manifest": self.key,
            "dataset": self.dataset,
            "trade_date": self.trade_date.isoformat(),
            "underlying": self.underlying,
            "files": self.files,
            "rows": self.rows,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }
        if self.message:
            fields["error" if self.status == "failed" else "reason"] = self.message
        return fields


@dataclass(frozen=True)
class LoadReport:
    """The outcome of loading one day: per-manifest results and totals of what was loaded."""

    day: dt.date
    warehouse: str
    results: tuple[LoadResult, ...]
    seconds: float
    lake: str = ""
    _by_status: dict[str, tuple[LoadResult, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by = {s: tuple(r for r in self.results if r.status == s) for s in ("loaded", "skipped", "failed")}
        object.__setattr__(self, "_by_status", by)

    @property
    def loaded(self) -> tuple[LoadResult, ...]:
        return self._by_status["loaded"]

    @property
    def skipped(self) -> tuple[LoadResult, ...]:
        return self._by_status["skipped"]

    @property
    def failed(self) -> tuple[LoadResult, ...]:
        return self._by_status["failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def files(self) -> int:
        return sum(r.files for r in self.loaded)

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.loaded)

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.loaded)

    @property
    def errors(self) -> list[str]:
        return [r.message or r.key for r in self.failed]

    def summary(self) -> dict[str, Any]:
        return {
            "trade_date": self.day.isoformat(),
            "warehouse": self.warehouse,
            "manifests": len(self.results),
            "loaded": len(self.loaded),
            "skipped": len(self.skipped),
            "failed": len(self.failed),
            "files": self.files,
            "rows": self.rows,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }

    def raise_for_failures(self) -> None:
        """Raise LoadError listing every failed manifest, so the step (and the CLI) exit non-zero."""
        if self.failed:
            raise LoadError(
                f"{len(self.failed)} of {len(self.results)} manifests for {self.day.isoformat()} "
                f"failed to load into {self.warehouse}: " + "; ".join(self.errors)
            )


class Warehouse(ABC):
    """A warehouse the lake loads into. Implementations must allow ``load_manifest`` from several threads."""

    name: str

    @abstractmethod
    def ensure_landing(self) -> None:
        """Create the landing schema, tables and ledger if missing (idempotent)."""

    @abstractmethod
    def loaded_keys(self, keys: Iterable[str]) -> set[str]:
        """The subset of manifest keys that the ledger already holds."""

    @abstractmethod
    def load_manifest(self, lake: Lake, key: str) -> LoadResult:
        """Load every part of one manifest and its ledger row in one transaction, or nothing.

        Returns status ``loaded`` or ``skipped`` (the ledger already had it, or a concurrent loader won);
        raises ManifestLoadError naming the file and cause when it cannot be loaded.
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections (and, for DuckDB, the file lock that other processes wait for)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _underlying_of(key: str) -> str | None:
    for segment in key.split("/"):
        if segment.startswith("underlying="):
            return segment.removeprefix("underlying=")
    return None


def _datasets(datasets: Sequence[str] | None) -> tuple[str, ...]:
    if datasets is None:
        return DATASETS
    unknown = [d for d in datasets if d not in DATASETS]
    if unknown:
        raise ValueError(f"unknown dataset(s) {', '.join(unknown)}; expected some of {', '.join(DATASETS)}")
    return tuple(dict.fromkeys(datasets))


def _load_one(warehouse: Warehouse, lake: Lake, key: str, dataset: str, day: dt.date) -> LoadResult:
    start = time.perf_counter()
    try:
        result = warehouse.load_manifest(lake, key)
    except (LoadError, LakeError) as exc:
        result = _failed(key, dataset, day, str(exc), start)
    except Exception as exc:  # a bug or an outage: still one manifest's failure, with the traceback logged
        log.exception("manifest load raised", manifest=key)
        result = _failed(key, dataset, day, f"{key}: {type(exc).__name__}: {exc}", start)
    if result.status == "failed":
        log.error("manifest failed", warehouse=warehouse.name, **result.log_fields())
    else:
        log.info(f"manifest {result.status}", warehouse=warehouse.name, **result.log_fields())
    return result


def _failed(key: str, dataset: str, day: dt.date, message: str, start: float) -> LoadResult:
    return LoadResult(
        key, dataset, day, _underlying_of(key), "failed", seconds=time.perf_counter() - start, message=message
    )


def load(
    warehouse: Warehouse,
    lake: Lake,
    day: dt.date,
    datasets: Sequence[str] | None = None,
    *,
    workers: int = DEFAULT_WORKERS,
) -> LoadReport:
    """Load every manifest of ``day`` (all datasets by default, per-underlying ones included).

    Manifests in the ledger are skipped; each other one is loaded in its own transaction, ``workers`` at a
    time. A failing manifest does not stop the others: the report lists it, and ``raise_for_failures``
    turns it into the step's error. Logs one line per manifest and a summary.
    """
    start = time.perf_counter()
    listed = [(dataset, key) for dataset in _datasets(datasets) for key in lake.manifest_keys(dataset, day)]
    warehouse.ensure_landing()
    done = warehouse.loaded_keys(key for _, key in listed)

    results: dict[str, LoadResult] = {}
    todo: list[tuple[str, str]] = []
    for dataset, key in listed:
        if key in done:
            results[key] = LoadResult(
                key, dataset, day, _underlying_of(key), "skipped", message="already in the ledger"
            )
            log.info("manifest skipped", warehouse=warehouse.name, **results[key].log_fields())
        else:
            todo.append((dataset, key))

    if workers <= 1 or len(todo) <= 1:
        for dataset, key in todo:
            results[key] = _load_one(warehouse, lake, key, dataset, day)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smelt-load") as pool:
            # Each task runs in a copy of this context so its log lines keep the step's bound fields.
            futures = {
                key: pool.submit(
                    contextvars.copy_context().run, _load_one, warehouse, lake, key, dataset, day
                )
                for dataset, key in todo
            }
            for key, future in futures.items():
                results[key] = future.result()

    report = LoadReport(
        day=day,
        warehouse=warehouse.name,
        results=tuple(results[key] for _, key in listed),
        seconds=time.perf_counter() - start,
        lake=lake.url,
    )
    summary = report.summary()
    rate = report.rows / report.seconds if report.seconds > 0 else 0.0
    (log.error if report.failed else log.info)("load finished", rows_per_second=round(rate), **summary)
    return report
