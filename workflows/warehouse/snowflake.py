"""The production warehouse: Snowflake, loaded with one ``COPY INTO`` per manifest.

An S3 lake is read in place through the external stage ``RAW.LAKE`` (on ``<lake>/raw/polygon/``, made by
snowflake/setup.sql); a folder lake's parts are first ``PUT`` to the internal stage ``RAW.LAKE_UPLOADS``. Either
way one COPY lists the manifest's files explicitly, keeps each line verbatim in ``record`` (a flat file's CSV
row: its eight columns, typed by the landing table, read with the ``CSV_GZ`` file format) with the file and
line it came from, and runs in the same transaction as the manifest's ledger row. COPY's per-file result
(status, rows loaded) must match the manifest, or the transaction is rolled back. COPY's own load history is a
second guard: a file it has loaded before is skipped, which the row check turns into a failure naming it.

Each thread has its own session (a Snowflake transaction belongs to a session), authenticated with a key
pair, tagged with the step and trading day (``QUERY_TAG``) so that the account's query history says what
each credit paid for. The connector retries network failures and HTTP 5xx itself; logging in is retried
here on transient failures only, and every misconfiguration gets one message that says what to fix.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from workflows.lake import FLATFILE_DATASETS, RAW_PREFIX, Lake, Manifest
from workflows.logs import get_logger
from workflows.snowflake_login import SnowflakeConfigError, connect_args
from workflows.warehouse import flatfiles
from workflows.warehouse.base import (
    LedgerEntry,
    LoadResult,
    ManifestLoadError,
    TableStats,
    Warehouse,
    first_line,
)
from workflows.warehouse.ddl import LEDGER, SCHEMA, landing_table, snowflake_ddl

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection
    from snowflake.connector.cursor import SnowflakeCursor

    from workflows.settings import Settings

log = get_logger(__name__)

#: The stages and file format snowflake/setup.sql creates in the raw schema.
LAKE_STAGE = f"{SCHEMA}.LAKE"
UPLOAD_STAGE = f"{SCHEMA}.LAKE_UPLOADS"
FILE_FORMAT = f"{SCHEMA}.NDJSON_GZ"
CSV_FILE_FORMAT = f"{SCHEMA}.CSV_GZ"


# Misconfigurations and what to do about each, known by Snowflake's error code where it has one, else by its
# words (a role refused at login reaches us inside the connector's own 250001 "failed to connect"; an error
# without any code, e.g. from an emulator, falls back to the words too). The first that matches wins.
_MISCONFIGURED: tuple[tuple[int | None, str, str], ...] = (
    (390144, "JWT token is invalid",
     "the private key at SNOWFLAKE_PRIVATE_KEY_PATH does not match a public key of SNOWFLAKE_USER={user}: "
     "set the user's RSA_PUBLIC_KEY (or RSA_PUBLIC_KEY_2 while rotating, docs/snowflake.md)"),
    (390100, "Incorrect username or password",
     "SNOWFLAKE_USER={user} does not exist in SNOWFLAKE_ACCOUNT={account}, or its key does not match: "
     "run snowflake/grants.sql"),
    (None, "Role '",
     "SNOWFLAKE_ROLE={role} does not exist or is not granted to SNOWFLAKE_USER={user}: run snowflake/grants.sql"),
    (630, "resource monitor",
     "SNOWFLAKE_WAREHOUSE={warehouse} is suspended by its resource monitor (monthly credit quota reached): "
     "raise monthly_credit_quota and re-run snowflake/setup.sql, or wait for the next month"),
    (606, "No active warehouse",
     "SNOWFLAKE_WAREHOUSE={warehouse} does not exist or SNOWFLAKE_ROLE={role} has no USAGE on it: "
     "check the name, run snowflake/grants.sql"),
    (None, "cannot be resumed",
     "SNOWFLAKE_WAREHOUSE={warehouse} is suspended and SNOWFLAKE_ROLE={role} cannot resume it: "
     "enable AUTO_RESUME (snowflake/setup.sql) or resume it as its owner"),
    (3001, "Insufficient privileges",
     "SNOWFLAKE_ROLE={role} lacks a grant this step needs: run snowflake/grants.sql"),
    (2003, "does not exist or not authorized",
     "an object is missing or SNOWFLAKE_ROLE={role} may not use it: run snowflake/setup.sql, then "
     "snowflake/grants.sql"),
    (None, "Database '",
     "SNOWFLAKE_DATABASE={database} does not exist or SNOWFLAKE_ROLE={role} has no USAGE on it: "
     "run snowflake/setup.sql and snowflake/grants.sql"),
)  # fmt: skip

#: ``errno (sqlstate)``, as the connector prefixes Snowflake's messages and dbt quotes them.
_CODE = re.compile(r"\b(\d{6}) \(([0-9A-Z]{5})\)")
#: SQLSTATEs another attempt may not meet: a lost connection (class 08), a transaction that lost a conflict,
#: a statement cancelled (a lock's queue of waiters was full, a timeout).
_TRANSIENT_STATES = ("08", "40001", "57014")


def _code(error: BaseException | str) -> tuple[int | None, str | None]:
    """Snowflake's error number and SQLSTATE: the connector's attributes, else the ones its text quotes."""
    errno, state = getattr(error, "errno", -1), getattr(error, "sqlstate", None)
    if isinstance(errno, int) and errno > 0:
        return errno, state if state not in (None, "n/a") else None
    match = _CODE.search(str(error))
    return (int(match[1]), match[2]) if match else (None, None)


def _advice(error: BaseException | str) -> str | None:
    """What to do about ``error``: found by its code when it has a known one, by its words when it has none."""
    errno, _ = _code(error)
    text = str(error)
    for code, marker, advice in _MISCONFIGURED:
        if (code is not None and code == errno) or ((code is None or errno is None) and marker in text):
            return advice
    return None


def explain(error: BaseException | str, setup: Mapping[str, object]) -> str:
    """Snowflake's message (first line), or a dbt failure quoting it, with what to fix when it is a known
    misconfiguration; ``setup`` names the user, account, role, warehouse and database in the advice."""
    detail = first_line(error) if isinstance(error, BaseException) else error
    advice = _advice(error)
    if advice is None:
        return detail
    names = {
        key: str(setup.get(key) or "(unset)") for key in ("user", "account", "role", "warehouse", "database")
    }
    return f"{detail} -- {advice.format(**names)}"


def _is_misconfigured(exc: BaseException) -> bool:
    return _advice(exc) is not None


def _is_transient(exc: BaseException) -> bool:
    from snowflake.connector.errors import InterfaceError, OperationalError

    if _is_misconfigured(exc):
        return False
    _, state = _code(exc)
    return isinstance(exc, OperationalError | InterfaceError) or (state or "").startswith(_TRANSIENT_STATES)


@dataclass
class _Transaction:
    """The session of one manifest's transaction; the claim is kept until the parts are in."""

    cursor: SnowflakeCursor
    entry: LedgerEntry | None = None
    statements: list[str] = field(default_factory=list)

    def execute(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        self.statements.append(sql.split(None, 1)[0].upper())
        self.cursor.execute(sql, params)
        return list(self.cursor.fetchall())


class SnowflakeWarehouse(Warehouse):
    """A Snowflake database: ``with SnowflakeWarehouse(connect_args, ...) as wh: load(wh, lake, day)``.

    ``connect_args`` go to ``snowflake.connector.connect`` (account, user, private_key, role, warehouse,
    database, host/port for PrivateLink); :meth:`from_settings` builds them from ``SNOWFLAKE_*``.
    """

    placeholder = "%s"

    name = "snowflake"

    def __init__(
        self,
        connect_args: Mapping[str, Any],
        *,
        step: str = "load",
        login_attempts: int = 4,
    ) -> None:
        self.connect_args = dict(connect_args)
        self.step = step
        self.login_attempts = login_attempts
        self._local = threading.local()
        self._connections: list[SnowflakeConnection] = []
        self._mutex = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SnowflakeWarehouse:
        return cls(connect_args(settings, SCHEMA.upper()))

    # -- sessions -----------------------------------------------------------------------------------

    def _connect(self, trade_date: dt.date | None) -> SnowflakeConnection:
        import snowflake.connector

        tag = {"app": "smelt", "step": self.step}
        if trade_date is not None:
            tag["trade_date"] = trade_date.isoformat()
        params = {**self.connect_args.get("session_parameters", {}), "QUERY_TAG": json.dumps(tag)}
        args = {**self.connect_args, "session_parameters": params, "autocommit": True}
        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            wait=wait_random_exponential(multiplier=0.5, max=8),
            stop=stop_after_attempt(self.login_attempts),
            reraise=True,
        )
        try:
            conn: SnowflakeConnection = retrying(snowflake.connector.connect, **args)
        except snowflake.connector.errors.Error as exc:
            if _is_transient(exc):
                raise
            raise SnowflakeConfigError(
                f"cannot log in to Snowflake: {explain(exc, self.connect_args)}"
            ) from exc
        with self._mutex:
            self._connections.append(conn)
        return conn

    def _session(self, trade_date: dt.date | None = None) -> SnowflakeConnection:
        """This thread's session for ``trade_date`` (its QUERY_TAG names the day), opened on first use."""
        sessions: dict[dt.date | None, SnowflakeConnection] = self._local.__dict__.setdefault("sessions", {})
        if trade_date not in sessions:
            sessions[trade_date] = self._connect(trade_date)
        return sessions[trade_date]

    @contextlib.contextmanager
    def _cursor(self, trade_date: dt.date | None = None) -> Iterator[SnowflakeCursor]:
        from snowflake.connector.errors import ProgrammingError

        cursor = self._session(trade_date).cursor()
        try:
            yield cursor
        except ProgrammingError as exc:
            if _is_misconfigured(exc):
                raise SnowflakeConfigError(explain(exc, self.connect_args)) from exc
            raise
        finally:
            cursor.close()

    def close(self) -> None:
        with self._mutex:
            connections, self._connections = self._connections, []
            self._local = threading.local()
            self._landed = False
        for conn in connections:
            with contextlib.suppress(Exception):
                conn.close()

    # -- the Warehouse interface --------------------------------------------------------------------

    def create_landing(self) -> None:
        """Create the landing tables that are missing; setup.sql normally has, and the loader may not."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [SCHEMA.upper()]
            )
            present = {f"{SCHEMA}.{row[0].lower()}" for row in cur.fetchall()}
            for table, statement in snowflake_ddl().items():
                if table in present:
                    continue
                try:
                    cur.execute(statement)
                except SnowflakeConfigError as exc:
                    raise SnowflakeConfigError(
                        f"landing table {table} is missing and SNOWFLAKE_ROLE cannot create it: run "
                        f"snowflake/setup.sql (as SYSADMIN) first. Snowflake said: {exc}"
                    ) from exc
                log.info("created landing table", warehouse=self.name, table=table)

    def loaded_keys(self, keys: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        if not wanted:
            return found
        self.ensure_landing()
        with self._cursor() as cur:
            for start in range(0, len(wanted), 1000):
                chunk = wanted[start : start + 1000]
                marks = ", ".join(["%s"] * len(chunk))
                cur.execute(f"SELECT manifest_key FROM {LEDGER} WHERE manifest_key IN ({marks})", chunk)
                found.update(row[0] for row in cur.fetchall())
        return found

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        # Each thread's session is per trading day (set by load_manifest), so its QUERY_TAG names the day.
        with self._cursor(self._local.__dict__.get("day")) as cur:
            tx = _Transaction(cur)
            tx.execute("BEGIN")
            try:
                yield tx
                tx.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    cur.execute("ROLLBACK")
                raise
            finally:  # the round trips a manifest cost, which the benchmark counts
                if tx.entry is not None:
                    log.debug(
                        "transaction statements", manifest=tx.entry.manifest_key, statements=tx.statements
                    )

    def claim(self, tx: _Transaction, entry: LedgerEntry) -> bool:
        """One statement reads the ledger and inserts the row: one round trip per manifest."""
        tx.entry = entry
        inserted = tx.execute(
            f"""INSERT INTO {LEDGER} (manifest_key, dataset, trade_date, files, "ROWS", sha256, loaded_at)
                SELECT %(key)s, %(dataset)s, %(trade_date)s::DATE, %(files)s, %(rows)s, %(sha256)s,
                       %(loaded_at)s::TIMESTAMP_TZ
                WHERE NOT EXISTS (SELECT 1 FROM {LEDGER} WHERE manifest_key = %(key)s)""",
            {"key": entry.manifest_key, "dataset": entry.dataset, "trade_date": entry.trade_date.isoformat(),
             "files": entry.files, "rows": entry.rows, "sha256": entry.sha256,
             "loaded_at": entry.loaded_at.isoformat()},
        )  # fmt: skip
        return bool(inserted) and int(inserted[0][0]) == 1

    def fetch(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self._cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def fetch_records(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        with self._cursor() as cur:
            cur.execute(sql, params)
            rows = list(cur.fetchall())
            names = [d[0].lower() for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def load_parts(
        self, tx: _Transaction, lake: Lake, manifest: Manifest, loaded_at: dt.datetime
    ) -> dict[str, int]:
        if not manifest.parts:
            return {}
        in_stage = {part.key: _stage_path(part.key) for part in manifest.parts}
        origin = flatfiles.origin(manifest) if flatfiles.is_flatfile(manifest) else None
        with contextlib.ExitStack() as stack:
            # Checked against the manifest (size, sha256) before Snowflake reads a byte: a part altered
            # after its manifest was written fails here, naming its key.
            local = {part.key: stack.enter_context(lake.verified_part(part)) for part in manifest.parts}
            if origin is not None:  # SKIP_HEADER skips the header unread: it is checked here
                for key, path in local.items():
                    flatfiles.check_header(path, f"{lake.url}/{key}")
            folder_lake = lake.storage.local_path(manifest.parts[0].key) is not None
            if folder_lake:
                self._put(tx, manifest, local)
            stage = UPLOAD_STAGE if folder_lake else LAKE_STAGE
            if origin is None:
                rows = self._copy(tx, manifest, list(in_stage.values()), loaded_at, stage)
            else:
                rows = self._copy_csv(tx, manifest, origin, list(in_stage.values()), loaded_at, stage)
        counts = _counts(rows, in_stage, lake, manifest)
        if origin is not None:
            self._number_data_rows_from_one(tx, manifest, counts)
        return counts

    def _put(self, tx: _Transaction, manifest: Manifest, local: Mapping[str, Path]) -> None:
        """Upload the manifest's parts to the internal stage, under their lake path (one PUT: a glob)."""
        folders = {path.parent for path in local.values()}
        assert len(folders) == 1, "a manifest's parts share one lake folder"
        folder = folders.pop()
        pattern = (
            f"part-*-{manifest.run_id}.{'csv' if manifest.dataset in FLATFILE_DATASETS else 'ndjson'}.gz"
        )
        target = _stage_path(next(iter(local))).rsplit("/", 1)[0]
        uploaded = tx.execute(
            f"PUT 'file://{folder.as_posix()}/{pattern}' @{UPLOAD_STAGE}/{target}/ "
            "AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = GZIP OVERWRITE = TRUE PARALLEL = 4"
        )
        names = {row[0] for row in uploaded if str(row[6]).upper() in {"UPLOADED", "SKIPPED"}}
        missing = sorted(p.name for p in local.values() if p.name not in names)
        if missing:
            raise ManifestLoadError(f"PUT to @{UPLOAD_STAGE}/{target}/ did not upload {', '.join(missing)}")

    def _copy(
        self, tx: _Transaction, manifest: Manifest, files: Sequence[str], loaded_at: dt.datetime, stage: str
    ) -> list[tuple[Any, ...]]:
        """One COPY for the whole manifest; returns COPY's result, one row per file."""
        select = f"""$1, %(trade_date)s::DATE, %(underlying)s, '{RAW_PREFIX}/' || METADATA$FILENAME,
                     METADATA$FILE_ROW_NUMBER, %(loaded_at)s::TIMESTAMP_TZ"""
        params = {"trade_date": manifest.trade_date.isoformat(), "underlying": manifest.underlying,
                  "loaded_at": loaded_at.isoformat()}  # fmt: skip
        columns = ("record", "trade_date", "underlying", "source_file", "source_row", "loaded_at")
        return self._run_copy(tx, manifest, columns, select, params, files, stage, FILE_FORMAT)

    def _copy_csv(
        self,
        tx: _Transaction,
        manifest: Manifest,
        origin: flatfiles.Origin,
        files: Sequence[str],
        loaded_at: dt.datetime,
        stage: str,
    ) -> list[tuple[Any, ...]]:
        """One COPY of a flat file: ``$1``..``$8`` in the vendor's column order, typed by the landing table.

        ``METADATA$FILE_ROW_NUMBER`` numbers the records COPY reads, so with SKIP_HEADER = 1 the first data row
        is 1, as on DuckDB.
        """
        fields = ", ".join(
            _whole(f"${i}", name) if name in flatfiles.COUNTS else f"${i}"
            for i, name in enumerate(flatfiles.COLUMN_NAMES, start=1)
        )
        select = f"""{fields}, %(trade_date)s::DATE, %(source)s, '{RAW_PREFIX}/' || METADATA$FILENAME,
                     METADATA$FILE_ROW_NUMBER, %(etag)s, %(last_modified)s::TIMESTAMP_TZ,
                     %(loaded_at)s::TIMESTAMP_TZ"""
        params = {"trade_date": manifest.trade_date.isoformat(), "source": manifest.source, "etag": origin.etag,
                  "last_modified": origin.last_modified.isoformat(), "loaded_at": loaded_at.isoformat()}  # fmt: skip
        return self._run_copy(
            tx, manifest, flatfiles.TABLE_COLUMNS, select, params, files, stage, CSV_FILE_FORMAT
        )

    def _number_data_rows_from_one(
        self, tx: _Transaction, manifest: Manifest, counts: Mapping[str, int]
    ) -> None:
        """Make each flat file's ``source_row`` run 1..rows, the header excluded, as on DuckDB.

        Snowflake's documentation does not say whether ``METADATA$FILE_ROW_NUMBER`` counts the line that
        ``SKIP_HEADER`` skipped; the emulator cannot show it. So the loader reads what COPY wrote (one query per
        manifest, in its transaction) and shifts a file numbered 2..rows+1 down by one; any other numbering
        fails the manifest, leaving nothing. (docs/architecture.md, decision 111.)
        """
        table = landing_table(manifest.dataset)
        marks = ", ".join(f"%(f{i})s" for i in range(len(counts)))
        keys = {f"f{i}": key for i, key in enumerate(counts)}
        found = tx.execute(
            f"SELECT source_file, min(source_row), max(source_row), count(*) FROM {table} "
            f"WHERE source_file IN ({marks}) GROUP BY source_file",
            keys,
        )
        numbered = {file: (int(first), int(last), int(rows)) for file, first, last, rows in found}
        for file, expected in counts.items():
            if expected and numbered.get(file, (0, 0, 0))[2] != expected:
                raise ManifestLoadError(
                    f"COPY landed {numbered.get(file, (0, 0, 0))[2]} rows named {file}, its manifest says "
                    f"{expected}: source_file would not name the lake part; nothing of the manifest was loaded",
                    retryable=False,
                )
        for file, (first, last, rows) in numbered.items():
            if (first, last) == (2, rows + 1):
                tx.execute(
                    f"UPDATE {table} SET source_row = source_row - 1 WHERE source_file = %(file)s",
                    {"file": file},
                )
            elif (first, last) != (1, rows):
                raise ManifestLoadError(
                    f"COPY numbered the {rows} data rows of {file} {first}..{last}, not 1..{rows}: source_row "
                    "would not name the file's data rows; nothing of the manifest was loaded",
                    retryable=False,
                )

    def _run_copy(
        self,
        tx: _Transaction,
        manifest: Manifest,
        columns: Sequence[str],
        select: str,
        params: Mapping[str, Any],
        files: Sequence[str],
        stage: str,
        file_format: str,
    ) -> list[tuple[Any, ...]]:
        """COPY ``files`` from ``stage`` with a transformation (``select``), aborting on the first bad row.

        A bad file fails the statement with a ProgrammingError (a value that does not convert), or, for a NULL in
        a NOT NULL column (100072), the connector's IntegrityError: both name the file and are not retried.
        """
        from snowflake.connector.errors import DataError, IntegrityError, ProgrammingError

        marks = ", ".join(f"%(f{i})s" for i in range(len(files)))
        bound: dict[str, Any] = {**params, **{f"f{i}": name for i, name in enumerate(files)}}
        # The folder lake's upload stage is only a transit copy: PURGE removes the files once loaded.
        purge = " PURGE = TRUE" if stage == UPLOAD_STAGE else ""
        try:
            return tx.execute(
                f"""COPY INTO {landing_table(manifest.dataset)} ({", ".join(columns)})
                    FROM (SELECT {select} FROM @{stage})
                    FILES = ({marks})
                    FILE_FORMAT = (FORMAT_NAME = '{file_format}')
                    ON_ERROR = ABORT_STATEMENT{purge}""",
                bound,
            )
        except (ProgrammingError, IntegrityError, DataError) as exc:
            if _is_misconfigured(exc):
                raise SnowflakeConfigError(explain(exc, self.connect_args)) from exc
            raise ManifestLoadError(
                f"COPY of {', '.join(files)} from @{stage} failed: {first_line(exc)}",
                retryable=_is_transient(exc),
            ) from exc

    def load_manifest(self, lake: Lake, key: str) -> LoadResult:
        # The session (and so its QUERY_TAG) follows the manifest's trading day, read from its key.
        self._local.day = _day_of(key)
        return super().load_manifest(lake, key)

    # -- the summary ---------------------------------------------------------------------------------

    def table_stats(self, schemas: Sequence[str]) -> list[TableStats]:
        marks = ", ".join(["%s"] * len(schemas))
        with self._cursor() as cur:
            cur.execute(
                "SELECT table_schema, table_name, row_count FROM information_schema.tables "
                f"WHERE lower(table_schema) IN ({marks}) AND table_type = 'BASE TABLE' ORDER BY 1, 2",
                [s.lower() for s in schemas],
            )
            return [TableStats(str(s).lower(), str(t).lower(), int(n or 0)) for s, t, n in cur.fetchall()]


def _whole(field: str, name: str) -> str:
    """A count field as COPY should cast it: the landing table's NUMBER(38, 0) would round ``10.5`` to 11, so a
    fraction becomes text naming the value and the ticker, which fails the cast and the COPY (decision 111)."""
    return (
        f"CASE WHEN {field}::FLOAT = FLOOR({field}::FLOAT) THEN {field} "
        f"ELSE '{name} ' || {field} || ' of ' || $1 || ' is not a whole number' END"
    )


def _stage_path(part_key: str) -> str:
    """A part's path in the stage on ``raw/polygon/`` (what FILES lists and METADATA$FILENAME returns)."""
    prefix = f"{RAW_PREFIX}/"
    if not part_key.startswith(prefix):
        raise ManifestLoadError(f"part {part_key} is outside {prefix}, where the stage looks")
    return part_key.removeprefix(prefix)


def _day_of(key: str) -> dt.date | None:
    for segment in key.split("/"):
        if segment.startswith("dt="):
            with contextlib.suppress(ValueError):
                return dt.date.fromisoformat(segment.removeprefix("dt="))
    return None


def _counts(
    rows: Sequence[tuple[Any, ...]], in_stage: Mapping[str, str], lake: Lake, manifest: Manifest
) -> dict[str, int]:
    """Rows loaded per part key, from COPY's result; a file COPY skipped or failed is named in an error."""
    counts: dict[str, int] = {}
    skipped: list[str] = []
    failed: list[str] = []
    for row in rows:
        if len(row) < 4:  # "Copy executed with 0 files processed.": every file was skipped
            continue
        file, status, loaded, first_error = str(row[0]), str(row[1]).upper(), row[3], row[6]
        key = next((k for k, path in in_stage.items() if file == path or file.endswith(f"/{path}")), None)
        if key is None:
            raise ManifestLoadError(f"COPY reported a file the manifest does not list: {file}")
        if status == "LOADED":
            counts[key] = int(loaded)
        elif status == "LOAD_SKIPPED":
            skipped.append(key)
        else:
            failed.append(f"{lake.url}/{key} ({status}: {first_error})")
    if failed:
        raise ManifestLoadError(f"COPY did not load {'; '.join(failed)}", retryable=False)
    not_reported = [k for k in in_stage if k not in counts and k not in skipped]
    skipped += not_reported
    if skipped:
        raise ManifestLoadError(
            "Snowflake's load history says "
            + ", ".join(f"{lake.url}/{k}" for k in skipped)
            + " was loaded before, but the ledger has no row for its manifest: a ledger row was deleted by "
            "hand, or the manifest lists a part another manifest loaded; nothing was loaded twice",
            retryable=False,
        )
    return counts
