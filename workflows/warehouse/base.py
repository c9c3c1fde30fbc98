"""The seam between the load step and a warehouse, and the backend-independent load of one day.

A backend only knows its DDL, its transactions, its ledger statements and how to load one manifest's parts.
Reading and checking manifests, skipping what the ledger holds, checking row counts, listing the day,
fanning out, collecting failures and logging are the same for DuckDB and Snowflake, so they live here once.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

import numpy as np

from workflows.lake import DATASETS, KeyMissingError, Lake, LakeError, Manifest, PartCorruptError
from workflows.logs import get_logger

Status = Literal["loaded", "skipped", "failed"]

#: Manifests loaded at once. Each gzip part is decompressed on one core, so a second manifest in flight
#: keeps a second core busy; more than a few only adds contention.
DEFAULT_WORKERS = min(4, os.cpu_count() or 1)

#: How long a loader whose claim lost waits for the winner's commit before calling the manifest failed.
CONFLICT_PATIENCE = 10.0

#: Why a manifest whose claim found its key in the ledger is skipped: the day's first look at the ledger
#: missed it, so a loader committed it meanwhile, unless the manifest was loaded on its own.
ALREADY_CLAIMED = "already in the ledger: loaded before, or concurrently by another loader"

log = get_logger(__name__)


def first_line(exc: BaseException) -> str:
    """A driver's message without the query text or traceback it may append; the type when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class LoadError(RuntimeError):
    """Loading failed; the message names the day, dataset, file and cause.

    ``retryable`` is False when loading again cannot help (a corrupt or altered part, a row-count
    mismatch): the ingest for that day must be re-run first.
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class ManifestLoadError(LoadError):
    """One manifest could not be loaded; nothing of it was written."""


class LedgerConflict(RuntimeError):
    """A backend's commit lost to a concurrent transaction (e.g. another loader claimed the same key)."""


class _AlreadyLoaded(Exception):
    """Raised inside a load transaction to roll it back when the ledger already holds the manifest."""


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
    retryable: bool = True

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
                f"failed to load into {self.warehouse}: " + "; ".join(self.errors),
                retryable=all(r.retryable for r in self.failed),
            )


@dataclass(frozen=True)
class LedgerEntry:
    """One row of ``raw.smelt_loads``: a manifest, claimed in the same transaction as its rows."""

    manifest_key: str
    dataset: str
    trade_date: dt.date
    files: int
    rows: int
    sha256: str
    loaded_at: dt.datetime


@dataclass(frozen=True)
class TableStats:
    """Rows and date span of one warehouse table, for ``smelt summary``."""

    schema: str
    table: str
    rows: int
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    sources: tuple[str, ...] = ()


class Warehouse(ABC):
    """A warehouse the lake loads into. ``load_manifest`` may run from several threads at once.

    This class owns what every backend shares: reading and checking a manifest, the ledger skip, the
    row-count check and the result. A backend supplies its DDL, a transaction, the ledger statements and
    the load of one manifest's parts; and the reads the steps need (``fetch``, ``table_stats``). What dbt
    needs to reach it is not here: that is the dbt target's role (workflows/dbt_runner.py).
    """

    name: str
    _landed: bool = False

    # -- what a backend supplies ---------------------------------------------------------------------

    @abstractmethod
    def create_landing(self) -> None:
        """Create the landing schema, tables and ledger if missing (idempotent)."""

    @abstractmethod
    def loaded_keys(self, keys: Iterable[str]) -> set[str]:
        """The subset of manifest keys that the ledger already holds."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Any]:
        """A transaction handle: committed when the block ends, rolled back when it raises.

        Raises LedgerConflict when the commit loses to a concurrent transaction.
        """

    @abstractmethod
    def claim(self, tx: Any, entry: LedgerEntry) -> bool:
        """Insert the ledger row inside ``tx`` unless the ledger holds the key; whether it was inserted.

        A concurrent loader that inserted the same key but has not committed yet makes the insert or the
        commit raise LedgerConflict instead.
        """

    @abstractmethod
    def fetch(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """The rows of one query (``params`` in the backend's own style), outside any load transaction."""

    #: The backend's bound-parameter mark (DuckDB ``?``, the Snowflake connector ``%s``).
    placeholder: str = "?"

    def fetch_columns(self, sql: str, names: Sequence[str], floats: Collection[str] = ()) -> dict[str, Any]:
        """The rows of one query as one numpy array per column (``names``: its select list, in order): the
        ``floats`` as float64 with NaN for NULL, the others as objects with None. Backends with a columnar
        fetch override it (DuckDB), so a million rows never become a million tuples."""
        rows = self.fetch(sql)
        out: dict[str, Any] = {}
        for j, name in enumerate(names):
            values = [row[j] for row in rows]
            out[name] = (
                np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
                if name in floats
                else np.array(values, dtype=object)
            )
        return out

    @abstractmethod
    def fetch_records(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        """Like :meth:`fetch`, each row a dict by lower-cased column name (for ``SELECT *`` readers)."""

    @abstractmethod
    def load_parts(
        self, tx: Any, lake: Lake, manifest: Manifest, loaded_at: dt.datetime
    ) -> Mapping[str, int]:
        """Load every part of ``manifest`` inside ``tx``; return rows loaded per part key.

        Raises ManifestLoadError (or the lake's PartCorruptError) naming the file and cause.
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections (and, for DuckDB, the file lock that other processes wait for)."""

    @abstractmethod
    def table_stats(self, schemas: Sequence[str]) -> list[TableStats]:
        """Row counts (and, where cheap, date spans) of the tables in ``schemas``, for ``smelt summary``."""

    # -- shared -------------------------------------------------------------------------------------

    def ensure_landing(self) -> None:
        """Create the landing tables once per instance."""
        if not self._landed:
            self.create_landing()
            self._landed = True

    def load_manifest(self, lake: Lake, key: str) -> LoadResult:
        """Load every part of one manifest and its ledger row in one transaction, or nothing.

        Returns status ``loaded`` or ``skipped`` (the ledger already had it, or a concurrent loader won);
        raises ManifestLoadError naming the file and cause when it cannot be loaded.
        """
        start = time.perf_counter()
        self.ensure_landing()
        raw, manifest = _read_manifest(lake, key)
        what = _describe(manifest)
        entry = LedgerEntry(
            key, manifest.dataset, manifest.trade_date, len(manifest.parts), manifest.rows,
            hashlib.sha256(raw).hexdigest(), dt.datetime.now(dt.UTC),
        )  # fmt: skip
        try:
            with self.transaction() as tx:
                # Claim the manifest first: a concurrent loader of the same key then fails at commit.
                if not self.claim(tx, entry):
                    raise _AlreadyLoaded
                counts = self.load_parts(tx, lake, manifest, entry.loaded_at)
                _check_counts(lake, manifest, counts, what)
        except _AlreadyLoaded:
            return _result(manifest, "skipped", start, ALREADY_CLAIMED)
        except LedgerConflict as exc:
            if self._committed_by_another(key):
                return _result(manifest, "skipped", start, "loaded concurrently by another loader")
            raise ManifestLoadError(f"{what}: cannot commit {lake.url}/{key}: {exc}") from exc
        except (PartCorruptError, KeyMissingError) as exc:  # a part altered or gone: re-ingest the day
            raise ManifestLoadError(f"{what}: {exc}", retryable=False) from exc
        except ManifestLoadError as exc:
            if str(exc).startswith(what):
                raise
            raise ManifestLoadError(f"{what}: {exc}", retryable=exc.retryable) from exc
        return _result(manifest, "loaded", start)

    def _committed_by_another(self, key: str, patience: float = CONFLICT_PATIENCE) -> bool:
        """Whether the transaction that beat ours to ``key`` commits it.

        A backend may refuse our claim as soon as the other loader inserted the same key, before that
        loader commits; its row shows up once it does, so look again for a little while.
        """
        deadline = time.monotonic() + patience
        delay = 0.01
        while True:
            if key in self.loaded_keys([key]):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _read_manifest(lake: Lake, key: str) -> tuple[bytes, Manifest]:
    try:
        raw = lake.storage.get_bytes(key)
        manifest = Manifest.from_json(raw, key)
    except LakeError as exc:
        raise ManifestLoadError(f"cannot load {lake.url}/{key}: {exc}") from exc
    if manifest.key != key:
        raise ManifestLoadError(
            f"cannot load {lake.url}/{key}: its content describes {manifest.key}; the manifest was "
            "moved or edited by hand",
            retryable=False,
        )
    return raw, manifest


def _check_counts(lake: Lake, manifest: Manifest, counts: Mapping[str, int], what: str) -> None:
    """Every part loaded exactly the rows its manifest lists, or the transaction rolls back."""
    for part in manifest.parts:
        loaded = counts.get(part.key)
        if loaded != part.rows:
            holds = "was not loaded" if loaded is None else f"holds {loaded} lines"
            raise ManifestLoadError(
                f"{what}: {lake.url}/{part.key} {holds} but its manifest says {part.rows}; nothing of "
                "the manifest was loaded",
                retryable=False,
            )


def _describe(manifest: Manifest) -> str:
    who = f" {manifest.underlying}" if manifest.underlying else ""
    return f"cannot load {manifest.dataset}{who} for {manifest.trade_date.isoformat()}"


def _result(manifest: Manifest, status: Status, start: float, message: str | None = None) -> LoadResult:
    loaded = status == "loaded"
    return LoadResult(
        key=manifest.key,
        dataset=manifest.dataset,
        trade_date=manifest.trade_date,
        underlying=manifest.underlying,
        status=status,
        files=len(manifest.parts) if loaded else 0,
        rows=manifest.rows if loaded else 0,
        bytes=manifest.bytes if loaded else 0,
        seconds=time.perf_counter() - start,
        message=message,
    )


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
    except LoadError as exc:
        result = _failed(key, dataset, day, str(exc), start, retryable=exc.retryable)
    except LakeError as exc:
        result = _failed(key, dataset, day, str(exc), start)
    except Exception as exc:  # a bug or an outage: still one manifest's failure, with the traceback logged
        log.exception("manifest load raised", manifest=key)
        result = _failed(key, dataset, day, f"{key}: {type(exc).__name__}: {exc}", start)
    if result.status == "failed":
        log.error("manifest failed", warehouse=warehouse.name, **result.log_fields())
    else:
        log.info(f"manifest {result.status}", warehouse=warehouse.name, **result.log_fields())
    return result


def _failed(
    key: str, dataset: str, day: dt.date, message: str, start: float, *, retryable: bool = True
) -> LoadResult:
    return LoadResult(
        key, dataset, day, _underlying_of(key), "failed",
        seconds=time.perf_counter() - start, message=message, retryable=retryable,
    )  # fmt: skip


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
