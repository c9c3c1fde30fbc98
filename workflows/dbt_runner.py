"""dbt, run in-process with smelt's project, profile and target folders, against the configured warehouse.

The warehouse backend says what dbt's profile needs from the environment and what to release afterwards,
so nothing here knows DuckDB from Snowflake.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from workflows.settings import Settings
from workflows.warehouse import Warehouse


def invoke(settings: Settings, warehouse: Warehouse, *args: str) -> Any:
    """Run one dbt command (``build``, ``source freshness``, ``parse``) and return dbt's result object."""
    from dbt.cli.main import dbtRunner

    os.environ.update({"SMELT_WAREHOUSE": settings.warehouse, "DO_NOT_TRACK": "1", **warehouse.dbt_env()})
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
        warehouse.after_dbt()


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
