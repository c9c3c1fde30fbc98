"""dbt, run in-process with smelt's project, profile and target folders, against the configured warehouse.

A :class:`DbtTarget` is the warehouse as dbt sees it: the environment its profile target reads, what dbt
leaves open in this process after a run, and what a failure means there. The loader's side of the same
warehouse is ``workflows.warehouse``; neither knows about the other.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from workflows.settings import Settings

#: What the models read the run's universe from (``macros/day_bars.sql``): the option roots of
#: ``SMELT_UNDERLYINGS``, comma-separated, or ``*`` for every underlying. A flat file is the whole market;
#: without it a backfill day would model every contract in the file (docs/architecture.md, decision 110).
OPTION_ROOTS_ENV = "SMELT_OPTION_ROOTS"


def option_roots(settings: Settings) -> str:
    """The OCC roots of the configured underlyings (BRK.B -> BRKB), or ``*`` when every one is wanted."""
    if settings.every_underlying:
        return "*"
    return ",".join(sorted({ticker.replace(".", "") for ticker in settings.underlyings}))


class DbtTarget:
    """dbt against one warehouse; the defaults fit a remote warehouse that dbt reaches on its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def env(self) -> dict[str, str]:
        """Environment variables the dbt profile's target reads."""
        return {}

    def release(self) -> None:
        """Release whatever dbt keeps open in this process after a run."""

    def explain(self, detail: str) -> str:
        """``detail`` (a dbt failure) with a hint of what to do, where the warehouse knows one."""
        return detail

    def invoke(self, *args: str) -> Any:
        """Run one dbt command (``build``, ``source freshness``, ``parse``) and return dbt's result object."""
        from dbt.cli.main import dbtRunner

        settings = self.settings
        os.environ.update({"SMELT_WAREHOUSE": settings.warehouse, "DO_NOT_TRACK": "1", **self.env()})
        # the universe is this invocation's only: a later dbt run in the process (by hand, a test) sees none
        roots, os.environ[OPTION_ROOTS_ENV] = os.environ.get(OPTION_ROOTS_ENV), option_roots(settings)
        project = str(settings.dbt_project())
        work = settings.home.resolve() / "dbt"  # dbt resolves a relative path against --project-dir
        argv = [
            *args,
            "--project-dir", project, "--profiles-dir", project, "--target", settings.warehouse,
            "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
        ]  # fmt: skip
        if settings.log_format == "json" or (settings.log_format == "auto" and not sys.stderr.isatty()):
            argv = ["--log-format", "json", *argv]
        try:
            return dbtRunner().invoke(argv)
        finally:
            if roots is None:
                os.environ.pop(OPTION_ROOTS_ENV, None)
            else:
                os.environ[OPTION_ROOTS_ENV] = roots
            self.release()


class DuckDBTarget(DbtTarget):
    """dbt-duckdb on the warehouse file, which one process at a time may open."""

    def env(self) -> dict[str, str]:
        env = {"SMELT_DUCKDB_PATH": str(self.settings.duckdb.path.resolve())}
        if self.settings.duckdb.memory_limit:
            env["SMELT_DUCKDB_MEMORY_LIMIT"] = self.settings.duckdb.memory_limit
        return env

    def release(self) -> None:
        """dbt-duckdb keeps the database open in a class-level cache after a run; close it so the loader or
        the dashboard in this process can open the file again (DuckDB allows one configuration per file)."""
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
        DuckDBConnectionManager.close_all_connections()  # type: ignore[no-untyped-call]

    def explain(self, detail: str) -> str:
        from workflows.warehouse.duckdb import LOCK_MESSAGE

        if "Out of Memory" in detail:
            return (
                f"{detail} -- DuckDB hit SMELT_DUCKDB_MEMORY_LIMIT={self.settings.duckdb.memory_limit}: a first "
                "build of a long history needs more; raise it (e.g. 3GB) for that run"
            )
        if LOCK_MESSAGE in detail:
            return (
                f"{detail} -- another smelt step or a DuckDB client holds {self.settings.duckdb.path}: let it "
                "finish, then retry"
            )
        return detail


class SnowflakeTarget(DbtTarget):
    """dbt-snowflake with the key pair of ``SNOWFLAKE_*``; the profile reads names and paths, not the key."""

    def env(self) -> dict[str, str]:
        """What dbt/profiles.yml's ``snowflake`` target reads (paths and names only: the key stays in its file)."""
        s = self.settings
        env = {
            "SNOWFLAKE_ACCOUNT": s.snowflake.account or "",
            "SNOWFLAKE_USER": s.snowflake.user or "",
            "SNOWFLAKE_PRIVATE_KEY_PATH": str(s.snowflake.private_key_path or ""),
            "SNOWFLAKE_ROLE": s.snowflake.role or "",
            "SNOWFLAKE_WAREHOUSE": s.snowflake.warehouse or "",
            "SNOWFLAKE_DATABASE": s.snowflake.database or "",
            "SNOWFLAKE_PROTOCOL": s.snowflake.protocol,
            "SMELT_QUERY_TAG": json.dumps({"app": "smelt", "step": "transform"}),
        }
        if s.snowflake.host:
            env["SNOWFLAKE_HOST"] = s.snowflake.host
        if s.snowflake.port:
            env["SNOWFLAKE_PORT"] = str(s.snowflake.port)
        return env

    def explain(self, detail: str) -> str:
        from workflows.warehouse.snowflake import explain

        s = self.settings
        setup = {"user": s.snowflake.user, "account": s.snowflake.account, "role": s.snowflake.role,
                 "warehouse": s.snowflake.warehouse, "database": s.snowflake.database}  # fmt: skip
        return explain(detail, setup)


def dbt_target(settings: Settings) -> DbtTarget:
    """The configured warehouse as dbt's target."""
    return DuckDBTarget(settings) if settings.warehouse == "duckdb" else SnowflakeTarget(settings)


def failures(result: Any) -> list[str]:
    """One line per failed node: the test (and the model it checks) or the model, and dbt's message."""
    lines = []
    for r in getattr(result.result, "results", None) or []:
        status = str(getattr(r.status, "value", r.status))
        if status in {"error", "fail", "runtime error"}:
            subject = r.node.unique_id
            attached = getattr(r.node, "attached_node", None)
            if attached:
                subject += f" on {attached}"
            lines.append(f"{subject} {status}: {(r.message or '').strip()[:300]}")
    return lines


def node_results(result: Any) -> list[Any]:
    return list(getattr(result.result, "results", None) or [])
