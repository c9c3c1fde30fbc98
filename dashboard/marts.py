"""Where the dashboard reads the marts: the published Parquet snapshot (embedded) or Snowflake (production).

Both answer the same portable SQL with ``?`` placeholders; the query module names tables through
:meth:`MartsSource.table`, which knows only the published marts. Each source reports a *version* that
changes when a new build is published, which is what keys (and clears) the query cache.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from workflows import run_reports
from workflows.marts_contract import (
    BUILD_FILE,
    CURRENT,
    LAKE_BUILDS_PREFIX,
    MART_NAMES,
    RUNS_DIR,
    current_version,
    mart_files,
    snapshot_folder,
)
from workflows.run_reports import RUNS_PREFIX

#: How long a list of run reports is reused before the store is listed again.
RUNS_CHECK_SECONDS = 5.0


class NoSnapshotError(RuntimeError):
    """Nothing published yet: the message says which command makes the first snapshot."""


class SourceUnavailableError(RuntimeError):
    """The marts' warehouse does not answer: the page says so (no traceback) and /readyz fails until it does."""


@dataclass(frozen=True)
class Handle:
    """One resolved version and what queries it; a version's handle never changes."""

    version: str
    connection: Any


class MartsSource(ABC):
    """A read-only view of the marts that switches to each newly published build."""

    kind: str
    _runs: tuple[int, float, list[dict[str, Any]]] | None = None

    @abstractmethod
    def handle(self) -> Handle:
        """The current version (re-checked at most every few seconds) and its connection."""

    @abstractmethod
    def table(self, name: str) -> str:
        """The SQL name of a published mart; anything else is refused."""

    @abstractmethod
    def run(self, handle: Handle, sql: str, params: Sequence[Any]) -> pd.DataFrame:
        """Execute one bound-parameter query on ``handle``."""

    @abstractmethod
    def build(self, handle: Handle) -> dict[str, Any]:
        """The build summary published with the version (marts, tests, freshness, loads)."""

    def runs(self, limit: int) -> list[dict[str, Any]]:
        """The newest run reports (workflows/run_reports.py), newest first; read again after a few seconds,
        since runs come and go independently of the published version (a failed run publishes nothing)."""
        now = time.monotonic()
        cached = self._runs
        if cached is not None and cached[0] == limit and now - cached[1] < RUNS_CHECK_SECONDS:
            return list(cached[2])
        found = self._read_runs(limit)
        self._runs = (limit, now, found)
        return list(found)

    @abstractmethod
    def _read_runs(self, limit: int) -> list[dict[str, Any]]:
        """Where this source keeps the run reports."""

    def ping(self, handle: Handle) -> None:
        """One round trip that needs no data (on Snowflake, no running warehouse): the source answers."""
        self.run(handle, "SELECT 1 AS ok", [])

    def _known(self, name: str) -> str:
        if name not in MART_NAMES:
            raise ValueError(f"{name!r} is not a published mart")
        return name


# --------------------------------------------------------------------------------------------- snapshot


class SnapshotSource(MartsSource):
    """DuckDB in memory over the Parquet files of the current snapshot version.

    One in-memory database per version holds a view per mart over the partition files its manifest names;
    each query runs on its own cursor, so threads never share a DuckDB connection. Day partitions are read
    with their ``trade_date=`` folder names, so a query for one day opens that day's file and no other. The
    database can read the snapshot folder and nothing else (``enable_external_access`` off with that folder
    allowed), and its configuration is locked.
    """

    kind = "snapshot"

    def __init__(
        self, root: Path, *, memory_limit: str = "512MB", threads: int = 2, check_seconds: float = 1.0
    ) -> None:
        self.root = Path(root)
        self.memory_limit = memory_limit
        self.threads = threads
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._handle: Handle | None = None
        self._checked = 0.0
        self._builds: dict[str, dict[str, Any]] = {}

    def handle(self) -> Handle:
        now = time.monotonic()
        current = self._handle
        if current is not None and now - self._checked < self.check_seconds:
            return current
        with self._lock:
            self._checked = now
            version = current_version(self.root)
            if version is None:
                raise NoSnapshotError(
                    f"no marts snapshot in {self.root} yet: run `smelt run` (or `smelt transform`) to build "
                    "and publish one"
                )
            if self._handle is None or self._handle.version != version:
                self._handle = Handle(version, self._open(version))
            return self._handle

    def _open(self, version: str) -> Any:
        import duckdb

        folder = self.root.resolve()
        files = mart_files(folder, version)
        con = duckdb.connect(":memory:")
        con.execute(f"SET memory_limit = '{self.memory_limit}'")
        con.execute(f"SET threads = {int(self.threads)}")
        con.execute("SET parquet_metadata_cache = true")
        con.execute(f"SET temp_directory = '{Path(tempfile.gettempdir()) / 'smelt-dashboard-duckdb'}'")
        for name in sorted(MART_NAMES):
            paths = [str(path) for path in files[name]]
            # the folder names repeat the files' own trade_date: read as partitions, they skip whole files
            by_day = all(path.parent.name.startswith("trade_date=") for path in files[name])
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet({paths!r}, hive_partitioning = {by_day})"
            )
        con.execute(f"SET allowed_directories = ['{folder}/']")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        return con

    def table(self, name: str) -> str:
        return self._known(name)

    def run(self, handle: Handle, sql: str, params: Sequence[Any]) -> pd.DataFrame:
        cursor = handle.connection.cursor()
        try:
            cursor.execute(sql, list(params))
            columns = [d[0] for d in cursor.description]
            return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
        finally:
            cursor.close()

    def build(self, handle: Handle) -> dict[str, Any]:
        cached = self._builds.get(handle.version)
        if cached is None:
            cached = json.loads((self.root / handle.version / BUILD_FILE).read_text())
            self._builds = {handle.version: cached}
        return cached

    def _read_runs(self, limit: int) -> list[dict[str, Any]]:
        from workflows.lake.storage import FolderStorage

        return run_reports.recent(FolderStorage(self.root), RUNS_DIR, limit)  # the exit handler's DuckDB copy


# --------------------------------------------------------------------------------------------- snowflake


class SnowflakeSource(MartsSource):
    """Snowflake through the reporter role (key-pair auth, read only); the build version comes from the lake.

    The connector is told to use ``?`` placeholders (qmark, bound on the server), so the query module's SQL is
    the same on both sources. One connection per thread (the connector's cursors are not meant to be shared),
    dropped after a failure so the next query logs in again. Column names come back in lower case, as
    DuckDB's do; the marts' contracts declare DOUBLE and BIGINT, so no value arrives as a ``Decimal``.

    A warehouse that does not answer (unreachable, a login refused) raises :class:`SourceUnavailableError`
    within ``timeout_seconds`` (the connector would otherwise retry for minutes); a SQL error is a bug and
    propagates as it is.
    """

    kind = "snowflake"

    def __init__(self, settings: Any, *, check_seconds: float = 30.0, timeout_seconds: float = 30.0) -> None:
        self.settings = settings
        self.check_seconds = check_seconds
        self.timeout_seconds = timeout_seconds
        self._local = threading.local()
        self._lock = threading.Lock()
        self._handle: Handle | None = None
        self._checked = 0.0
        self._build: dict[str, Any] = {}

    def _storage(self) -> Any:
        from workflows.lake import open_storage

        return open_storage(self.settings.lake, self.settings.s3_endpoint_url)

    def handle(self) -> Handle:
        now = time.monotonic()
        if self._handle is not None and now - self._checked < self.check_seconds:
            return self._handle
        with self._lock:
            self._checked = now
            storage = self._storage()
            try:
                version = storage.get_bytes(f"{LAKE_BUILDS_PREFIX}/{CURRENT}").decode().strip()
            except Exception as exc:
                raise NoSnapshotError(
                    f"no build published to {self.settings.lake}/{LAKE_BUILDS_PREFIX} yet: run `smelt transform`"
                ) from exc
            if self._handle is None or self._handle.version != version:
                raw = storage.get_bytes(f"{LAKE_BUILDS_PREFIX}/{version}/{BUILD_FILE}")
                self._build = json.loads(raw)
                self._handle = Handle(version, None)
            return self._handle

    def _connection(self) -> Any:
        con = getattr(self._local, "con", None)
        if con is None:
            import snowflake.connector

            from workflows.snowflake_login import connect_args

            args = connect_args(self.settings, "MARTS")
            tag = json.dumps({"app": "smelt", "step": "dashboard"})
            args.update(
                paramstyle="qmark",
                login_timeout=self.timeout_seconds,
                network_timeout=self.timeout_seconds,
                client_session_keep_alive=True,
                session_parameters={**args.get("session_parameters", {}), "QUERY_TAG": tag},
            )
            try:
                con = snowflake.connector.connect(**args)
            except snowflake.connector.errors.Error as exc:
                raise self._unavailable(exc) from exc
            self._local.con = con
        return con

    def _unavailable(self, exc: BaseException) -> SourceUnavailableError:
        """The connector's first line only: it may append the statement's text below it."""
        account = self.settings.snowflake.account
        said = (str(exc).strip() or type(exc).__name__).splitlines()[0][:200]
        return SourceUnavailableError(
            f"Snowflake (account {account}) is not answering: {said}. The page shows the "
            "marts again once it answers; reload then"
        )

    def table(self, name: str) -> str:
        return f"marts.{self._known(name)}"

    def run(self, handle: Handle, sql: str, params: Sequence[Any]) -> pd.DataFrame:
        from snowflake.connector.errors import (
            DatabaseError,
            InterfaceError,
            OperationalError,
            ProgrammingError,
        )

        con = self._connection()
        try:
            cursor = con.cursor()
            try:
                cursor.execute(sql, list(params))
                columns = [d[0].lower() for d in cursor.description]
                return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
            finally:
                cursor.close()
        except ProgrammingError:
            raise  # a query Snowflake refused: a bug to see in the log, not an outage
        except (OperationalError, InterfaceError, DatabaseError) as exc:
            self._drop(con)
            raise self._unavailable(exc) from exc

    def _drop(self, con: Any) -> None:
        self._local.con = None
        with contextlib.suppress(Exception):
            con.close()

    def build(self, handle: Handle) -> dict[str, Any]:
        return self._build

    def _read_runs(self, limit: int) -> list[dict[str, Any]]:
        return run_reports.recent(self._storage(), RUNS_PREFIX, limit)


def open_source(settings: Any, dashboard: Any) -> MartsSource:
    """The configured source: the snapshot under ``SMELT_HOME`` or Snowflake (both re-read ``CURRENT`` at most
    every ``snapshot_check_seconds``)."""
    if settings.warehouse == "snowflake":
        return SnowflakeSource(
            settings,
            check_seconds=dashboard.snapshot_check_seconds,
            timeout_seconds=dashboard.snowflake_timeout_seconds,
        )
    return SnapshotSource(
        snapshot_folder(settings.home),
        memory_limit=dashboard.duckdb_memory_limit,
        threads=dashboard.duckdb_threads,
        check_seconds=dashboard.snapshot_check_seconds,
    )
