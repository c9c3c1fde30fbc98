"""The commands the rendered templates run, run the way Argo runs them on retries: every step twice
under the workflow's name as run id. The lake and the warehouse end up with each row exactly once."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from tests.tooling import ROOT
from workflows.cli import app
from workflows.lake import Lake
from workflows.settings import load_settings

RENDERED = ROOT / "charts" / "pipeline" / "files" / "argo" / "duckdb"
WORKFLOW = "smelt-daily-r3try"
DAY = "2026-11-24"


def _args(template_file: str, template: str, **inputs: str) -> list[str]:
    """A step's container args from the committed YAML, with Argo's substitutions done."""
    manifest: dict[str, Any] = yaml.safe_load((RENDERED / template_file).read_text())
    args = next(t for t in manifest["spec"]["templates"] if t["name"] == template)["container"]["args"]
    values = {"workflow.name": WORKFLOW, **{f"inputs.parameters.{k}": v for k, v in inputs.items()}}
    return [re.sub(r"\{\{([^}]+)\}\}", lambda m: values[m.group(1)], arg) for arg in args]


@pytest.mark.slow
def test_every_step_run_twice_lands_each_row_once(tmp_path: Path) -> None:
    steps = [
        _args("workflowtemplate-smelt-ingest-stocks.yaml", "ingest-stocks", **{"trade-date": DAY}),
        *(_args("workflowtemplate-smelt-ingest-options.yaml", "ingest-options-one", underlying=u, **{"trade-date": DAY})
          for u in ("SPY", "QQQ")),
        _args("workflowtemplate-smelt-load.yaml", "load", **{"trade-date": DAY}),
    ]  # fmt: skip
    assert steps[0] == ["ingest", "stocks", "--date", DAY, "--run-id", WORKFLOW]
    for args in steps:
        for attempt in (1, 2):  # the first attempt, then Argo's retry of the same node
            done = CliRunner().invoke(app, args)
            assert done.exit_code == 0, (args, attempt, done.output)

    home = Path(tmp_path / "smelt-home")
    manifests = Lake.open(load_settings().lake).manifest_keys(day=dt.date.fromisoformat(DAY))
    assert all(key.endswith(f"/{WORKFLOW}.json") for key in manifests)  # retries wrote no second manifest
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as db:
        ledger = dict(
            db.execute("select dataset, sum(rows) from raw.smelt_loads group by dataset").fetchall()
        )
        assert {"stock_bars", "option_contracts"} <= set(ledger)
        assert db.execute("select count(*) from raw.smelt_loads").fetchone() == (len(manifests),)
        for dataset, rows in ledger.items():
            landed, distinct = db.execute(
                f"select count(*), count(distinct (source_file, source_row)) from raw.polygon_{dataset}"
            ).fetchone()  # type: ignore[misc]
            assert landed == distinct == rows, dataset
