"""The embedded warehouse: a DuckDB file loaded straight from the lake's gzip NDJSON and CSV parts.

DuckDB's own reader decompresses and splits each verified part (no Python per row): an NDJSON line is kept
verbatim as JSON, a flat file's CSV row is typed with the columns of workflows/warehouse/flatfiles.py (no
sniffing); ``WITH ORDINALITY`` numbers the rows in file order, which gives ``source_row``. One manifest is one
transaction together with its ledger row, so a manifest is loaded once or not at all.

DuckDB lets one process write a database file at a time: another process's connect fails with "Could not
set lock on file". The loader waits for the lock with bounded, jittered retries, after which the ledger
shows what the other process loaded. Threads share one connection and use a cursor each.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from workflows.lake import KeyMissingError, Lake, LakeError, Manifest, PartCorruptError, PartInfo
from workflows.logs import get_logger
from workflows.warehouse import flatfiles
from workflows.warehouse.base import (
    LedgerConflict,
    LedgerEntry,
    ManifestLoadError,
    TableStats,
    Warehouse,
    first_line,
)
from workflows.warehouse.ddl import FLATFILE_TABLES, LEDGER, duckdb_ddl, landing_table

if TYPE_CHECKING:
    from workflows.settings import Settings

log = get_logger(__name__)

#: How long a loader waits for another process to release the database file before giving up.
DEFAULT_LOCK_TIMEOUT = 300.0

#: WAL size that triggers a checkpoint. DuckDB's 16 MiB default checkpoints after nearly every manifest,
#: rewriting the table's last row group each time; a large WAL is checkpointed once, when the loader closes.
DEFAULT_CHECKPOINT_THRESHOLD = "1GiB"

LOCK_MESSAGE = "Could not set lock on file"
_HOLDER = re.compile(r"Conflicting lock is held in (?P<holder>.+?)(?:\. See also|$)")


class WarehouseSchemaError(RuntimeError):
    """A landing table has a shape the loader cannot load into; the message says what to do."""


class WarehouseLockedError(RuntimeError):
    """Another process kept the DuckDB file locked for longer than the loader waits."""


def _is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and LOCK_MESSAGE in str(exc)


def _lock_holder(exc: BaseException | None) -> str:
    match = _HOLDER.search(str(exc or ""))
    return match["holder"] if match else "another process"


class DuckDBWarehouse(Warehouse):
    """A DuckDB database file; ``with DuckDBWarehouse(path) as wh: load(wh, lake, day)``.

    The file lock is taken on first use and released by ``close()``, so dbt (and other loaders) can open
    the file once the load is done. Pass ``connection`` to share an open database; it is then not closed.
    """

    name = "duckdb"

    def __init__(
        self,
        path: Path | str,
        *,
        connection: duckdb.DuckDBPyConnection | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        checkpoint_threshold: str | None = DEFAULT_CHECKPOINT_THRESHOLD,
        memory_limit: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.memory_limit = memory_limit
        self.lock_timeout = lock_timeout
        self.checkpoint_threshold = checkpoint_threshold
        self._conn = connection
        self._owned = connection is None
        self._mutex = threading.Lock()

    # -- connection ---------------------------------------------------------------------------------

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The shared connection, opened on first use (waiting for another process's lock if needed)."""
        with self._mutex:
            if self._conn is None:
                self._conn = self._connect()
            return self._conn

    def _connect(self) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        retrying = Retrying(
            retry=retry_if_exception(_is_lock_error),
            wait=wait_random_exponential(multiplier=0.05, max=2.0),
            stop=stop_after_delay(self.lock_timeout),
            before_sleep=self._log_wait,
            reraise=False,
        )
        try:
            conn: duckdb.DuckDBPyConnection = retrying(duckdb.connect, str(self.path))
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise WarehouseLockedError(
                f"{self.path} stayed locked by {_lock_holder(last)} for {self.lock_timeout:.0f}s; "
                "another smelt step or a DuckDB client holds it: let it finish, or close it, then retry"
            ) from last
        if self.checkpoint_threshold:
            conn.execute(f"SET checkpoint_threshold = '{self.checkpoint_threshold}'")
        if self.memory_limit:
            conn.execute(f"SET memory_limit = '{self.memory_limit}'")
        return conn

    def _log_wait(self, state: RetryCallState) -> None:
        n = state.attempt_number
        if n & (n - 1) == 0:  # attempts 1, 2, 4, 8, …: say it without flooding the log
            waited = time.monotonic() - state.start_time
            log.info(
                "waiting for the DuckDB write lock",
                path=str(self.path),
                held_by=_lock_holder(state.outcome.exception() if state.outcome else None),
                attempt=n,
                waited_seconds=round(waited, 2),
                timeout_seconds=self.lock_timeout,
            )

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cursor = self.connection().cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None and self._owned:
                self._conn.close()
                self._conn = None
                self._landed = False

    # -- the Warehouse interface --------------------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: Settings) -> DuckDBWarehouse:
        return cls(settings.duckdb.path, memory_limit=settings.duckdb.memory_limit)

    def create_landing(self) -> None:
        # Two threads creating the same table race in the catalog; the loser's retry finds it created.
        for attempt in Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, duckdb.TransactionException)),
            stop=stop_after_attempt(3),
            reraise=True,
        ):
            with attempt, self._cursor() as cur:
                _replace_json_shaped_flatfile_tables(cur)
                for statement in duckdb_ddl():
                    cur.execute(statement)

    def loaded_keys(self, keys: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return set()
        self.ensure_landing()
        with self._cursor() as cur:
            rows = cur.execute(
                f"SELECT manifest_key FROM {LEDGER} WHERE list_contains($keys, manifest_key)",
                {"keys": wanted},
            ).fetchall()
        return {row[0] for row in rows}

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute("COMMIT")
            except (duckdb.TransactionException, duckdb.ConstraintException) as exc:
                _rollback(cur)
                raise LedgerConflict(first_line(exc)) from exc
            except BaseException:
                _rollback(cur)
                raise

    def claim(self, tx: duckdb.DuckDBPyConnection, entry: LedgerEntry) -> bool:
        inserted = tx.execute(
            f"""INSERT INTO {LEDGER}
                SELECT $key, $dataset, $trade_date, $files, $rows, $sha256, $loaded_at
                WHERE NOT EXISTS (SELECT 1 FROM {LEDGER} WHERE manifest_key = $key)""",
            {"key": entry.manifest_key, "dataset": entry.dataset, "trade_date": entry.trade_date,
             "files": entry.files, "rows": entry.rows, "sha256": entry.sha256, "loaded_at": entry.loaded_at},
        ).fetchall()  # fmt: skip
        return int(inserted[0][0]) == 1

    def fetch(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self._cursor() as cur:
            return cur.execute(sql, params).fetchall()

    def fetch_columns(self, sql: str, names: Sequence[str], floats: Collection[str] = ()) -> dict[str, Any]:
        with self._cursor() as cur:
            found = cur.execute(sql).fetchnumpy()
        out: dict[str, Any] = {}
        for name, column in zip(names, found.values(), strict=True):
            missing = np.ma.getmaskarray(column)
            if name in floats:
                out[name] = np.where(missing, np.nan, np.ma.getdata(column).astype(np.float64))
            else:
                values = np.ma.getdata(column).astype(object)
                values[missing] = None
                out[name] = values
        return out

    def fetch_records(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        with self._cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
            names = [d[0].lower() for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def load_parts(
        self, tx: duckdb.DuckDBPyConnection, lake: Lake, manifest: Manifest, loaded_at: dt.datetime
    ) -> dict[str, int]:
        counts: dict[str, int] = {}
        origin = flatfiles.origin(manifest) if flatfiles.is_flatfile(manifest) else None
        kind = "NDJSON" if origin is None else "CSV with the flat-file columns"
        for part in manifest.parts:
            url = f"{lake.url}/{part.key}"
            try:
                with lake.verified_part(part) as local:
                    try:
                        if origin is None:
                            counts[part.key] = _insert(tx, manifest, part, local, loaded_at)
                        else:
                            flatfiles.check_header(local, url)
                            counts[part.key] = _insert_csv(tx, manifest, part, origin, local, loaded_at)
                    except _BAD_CONTENT as exc:
                        why = _clean(exc, local) if origin is None else _csv_error(exc, local)
                        raise ManifestLoadError(
                            f"{url} is not valid gzip {kind}: {why}", retryable=False
                        ) from exc
            except (KeyMissingError, PartCorruptError):
                raise
            except (LakeError, OSError) as exc:
                raise ManifestLoadError(f"cannot read {url}: {first_line(exc)}") from exc
        return counts

    # -- the summary ---------------------------------------------------------------------------------

    def table_stats(self, schemas: Sequence[str]) -> list[TableStats]:
        """Read-only, so a summary never waits for or blocks a writer's lock longer than its queries."""
        if not self.path.exists():
            return []
        stats = []
        with duckdb.connect(str(self.path), read_only=True) as con:
            tables = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE list_contains($schemas, table_schema) ORDER BY 1, 2",
                {"schemas": list(schemas)},
            ).fetchall()
            for schema, table in tables:
                stats.append(_table_stats(con, schema, table))
        return stats


def _replace_json_shaped_flatfile_tables(cur: duckdb.DuckDBPyConnection) -> None:
    """Drop a flat-file landing table made with the JSON landing shape, which it had for one commit before
    its typed columns (issue 17): empty, it is recreated typed; with rows, say what to do rather than guess."""
    for table in sorted(FLATFILE_TABLES):
        schema, name = table.split(".")
        found = cur.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_schema = $s AND table_name = $t AND column_name = 'record'",
            {"s": schema, "t": name},
        ).fetchall()
        if not found[0][0]:
            continue
        if cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]:
            raise WarehouseSchemaError(
                f"{table} has the JSON landing shape and rows: it predates the typed flat-file columns; drop it "
                "and re-run the load of those days (the lake still holds every flat file)"
            )
        cur.execute(f"DROP TABLE {table}")
        log.info("replaced an empty flat-file landing table of the old shape", table=table)


def _table_stats(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> TableStats:
    name = f'"{schema}"."{table}"'
    columns = {r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()}
    rows = int(con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])
    first = last = None
    sources: tuple[str, ...] = ()
    if rows and "trade_date" in columns:
        first, last = con.execute(f"SELECT min(trade_date), max(trade_date) FROM {name}").fetchall()[0]
    if rows and "source" in columns:
        found = con.execute(f"SELECT DISTINCT source FROM {name}").fetchall()
        sources = tuple(sorted(str(r[0]) for r in found))
    return TableStats(schema, table, rows, first, last, sources)


def _insert(
    cur: duckdb.DuckDBPyConnection,
    manifest: Manifest,
    part: PartInfo,
    local: Path,
    loaded_at: dt.datetime,
) -> int:
    """Append one part; ``WITH ORDINALITY`` numbers its lines 1.. in file order. Returns rows inserted.

    Hive partitioning is off: DuckDB would otherwise add ``dt`` and ``underlying`` columns read from
    the lake path, and the manifest is the authority on both.
    """
    rows = cur.execute(
        f"""INSERT INTO {landing_table(manifest.dataset)}
                (record, trade_date, underlying, source_file, source_row, loaded_at)
            SELECT f.json, $trade_date, $underlying, $source_file, f.ordinality, $loaded_at
            FROM read_ndjson_objects($path, compression = 'gzip', hive_partitioning = false)
                 WITH ORDINALITY AS f""",
        {
            "trade_date": manifest.trade_date,
            "underlying": manifest.underlying,
            "source_file": part.key,
            "loaded_at": loaded_at,
            "path": str(local),
        },
    ).fetchall()
    return int(rows[0][0])


#: DuckDB's errors for a part whose content does not parse, convert or fit the landing table's constraints.
_BAD_CONTENT = (
    duckdb.IOException, duckdb.InvalidInputException, duckdb.ConversionException, duckdb.ConstraintException,
)  # fmt: skip

#: read_csv with every option given: the vendor's header is checked before (flatfiles.check_header), then
#: skipped; quoting as RFC 4180; a row with too many or too few fields, or a value of the wrong type, fails.
_READ_CSV = (
    "read_csv($path, header = true, auto_detect = false, columns = $columns, delim = ',', quote = '\"', "
    "escape = '\"', compression = 'gzip', strict_mode = true, null_padding = false, ignore_errors = false, "
    "hive_partitioning = false)"
)


def _whole(name: str) -> str:
    return (
        f"CASE WHEN {name} IS NULL OR {name} = trunc({name}) THEN CAST({name} AS BIGINT) ELSE error("
        f"'{name} ' || {name} || ' of ' || ticker || ' on data row ' || ordinality || ' is not a whole number') "
        f"END AS {name}"
    )


def _insert_csv(
    cur: duckdb.DuckDBPyConnection,
    manifest: Manifest,
    part: PartInfo,
    origin: flatfiles.Origin,
    local: Path,
    loaded_at: dt.datetime,
) -> int:
    """Append one flat-file part, typed; ``source_row`` is the data row's number from 1 (header excluded)."""
    names = ", ".join(_whole(name) if name in flatfiles.COUNTS else name for name in flatfiles.COLUMN_NAMES)
    read_as = {name: "DOUBLE" if name in flatfiles.COUNTS else duck for name, duck, _ in flatfiles.COLUMNS}
    rows = cur.execute(
        f"""INSERT INTO {landing_table(manifest.dataset)} ({", ".join(flatfiles.TABLE_COLUMNS)})
            SELECT {names}, $trade_date, $source, $source_file, ordinality, $etag, $last_modified, $loaded_at
            FROM {_READ_CSV} WITH ORDINALITY""",
        {
            "path": str(local),
            "columns": read_as,
            "trade_date": manifest.trade_date,
            "source": manifest.source,
            "source_file": part.key,
            "etag": origin.etag,
            "last_modified": origin.last_modified,
            "loaded_at": loaded_at,
        },
    ).fetchall()
    return int(rows[0][0])


def _csv_error(exc: BaseException, local: Path) -> str:
    """DuckDB's CSV error in one line: which line of the file (the header is line 1), that line, the cause.

    Its advice (override the types, disable strict mode, ignore errors) is left out: the file is wrong.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    kept = [lines[0]] + [line[:200] for line in lines[1:3] if not line.startswith("Possible")]
    return _clean(RuntimeError("; ".join(kept)), local)


def _clean(exc: BaseException, local: Path) -> str:
    """DuckDB's message names the local (perhaps temporary) file; the lake URL before it already does."""
    text = first_line(exc)
    text = (
        text.replace(f' in file "{local}",', "").replace(f' in file "{local}"', "").replace(f": {local}", "")
    )
    return text.replace(f'"{local}"', "the file").replace(str(local), "the file")


def _rollback(cur: Any) -> None:
    # A failed COMMIT has already rolled back; ROLLBACK then reports "no transaction is active".
    with contextlib.suppress(duckdb.Error):
        cur.execute("ROLLBACK")
