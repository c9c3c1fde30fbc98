"""A step re-run with the same run id (an Argo retry) resumes: landed units are not fetched again,
nothing is duplicated or overwritten, and the load ledger sees each manifest once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import uvicorn
from typer.testing import CliRunner

from tests.pipeline.support import END, make_settings
from workflows import steps
from workflows.cli import app as cli
from workflows.lake import Lake, PartCorruptError
from workflows.polygon import PolygonAuthError, PolygonServerError
from workflows.simulator import create_app
from workflows.steps.errors import StepError, retryable

DAY = dt.date(2026, 11, 24)
RUN = "smelt-daily-abc12"


def test_a_retried_step_fetches_only_what_failed_and_duplicates_nothing(tmp_path: Path) -> None:
    broken = make_settings(tmp_path / "home", underlyings=("AAPL", "TSLA"),
                           sim_faults="drop=details,paths=/v3/snapshot/options/TSLA")  # fmt: skip
    with pytest.raises(StepError, match=r"1 of 6 units failed.*option_snapshots for TSLA") as failed:
        steps.ingest_options(steps.Resources.from_settings(broken), DAY, run_id=RUN)
    assert failed.value.retryable is False  # a schema error: the API's answer, not the network

    fixed = make_settings(tmp_path / "home", underlyings=("AAPL", "TSLA"))
    resources = steps.Resources.from_settings(fixed)
    report = steps.ingest_options(resources, DAY, run_id=RUN)
    resumed = {(u.dataset, u.underlying): u for u in report.units}
    assert all(resumed[(d, "AAPL")].resumed and resumed[(d, "AAPL")].requests == 0
               for d in ("option_contracts", "option_snapshots", "stock_dividends"))  # fmt: skip
    assert (
        not resumed[("option_snapshots", "TSLA")].resumed and resumed[("option_snapshots", "TSLA")].rows > 0
    )

    again = steps.ingest_options(resources, DAY, run_id=RUN)  # a third attempt: everything is landed
    assert all(u.resumed for u in again.units) and again.requests == 0

    lake = Lake.open(fixed.lake)
    keys = lake.manifest_keys("option_snapshots", DAY)
    assert len(keys) == 2 and all(RUN in k for k in keys)
    loaded = steps.load(resources, DAY)
    assert loaded.rows == sum(m.rows for m in lake.manifests(day=DAY))
    with duckdb.connect(str(fixed.duckdb.path), read_only=True) as con:
        dupes = con.execute(
            "select count(*) from (select source_file, source_row from raw.polygon_option_snapshots "
            "group by all having count(*) > 1)"
        ).fetchone()
    assert dupes == (0,)


def test_a_resumed_backfill_reuses_its_landed_contracts_and_days(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", source="simulator", underlyings=("IWM",))
    start, end, resources = dt.date(2026, 11, 23), DAY, steps.Resources.from_settings(settings)
    first = steps.backfill_options(resources, start, end, run_id=RUN)
    again = steps.backfill_options(resources, start, end, run_id=RUN)
    assert first.requests > 0 and again.requests == 0
    assert [u.rows for u in again.units] == [u.rows for u in first.units]
    assert all(u.resumed for u in again.units)


@pytest.mark.slow  # a whole run through dbt
def test_smelt_run_started_again_with_its_run_id_lands_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long `smelt run` cut short and started again resumes past the units it landed (bench/ builds rely on
    it) instead of landing a second copy of every day for the load to read."""
    home = tmp_path / "home"
    monkeypatch.setenv("SMELT_HOME", str(home))
    monkeypatch.setenv("SMELT_LOG_FORMAT", "json")
    monkeypatch.setenv("SMELT_SIM_NOW", END.isoformat())  # past days take the backfill path, on any date
    args = ["run", "--start", "2026-11-23", "--end", str(DAY), "--underlyings", "IWM", "--run-id", RUN]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    lake = Lake.open(make_settings(home).lake)
    landed = lake.manifest_keys("option_bars", DAY) + lake.manifest_keys("stock_bars", DAY)
    assert len(landed) == 2 and all(RUN in key for key in landed)
    written = _data_files(home)
    reports = sorted((home / "lake" / "_smelt" / "runs").glob(f"*-{RUN}.json"))

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert lake.manifest_keys("option_bars", DAY) + lake.manifest_keys("stock_bars", DAY) == landed
    # every data file in the lake is the one the first run wrote: nothing fetched and landed again; the only
    # new object is the second attempt's run report (decision 100: one per invocation, keyed by its start)
    assert _data_files(home) == written
    assert len(reports) == 1 and len(list((home / "lake" / "_smelt" / "runs").glob(f"*-{RUN}.json"))) == 2


def _data_files(home: Path) -> dict[Path, int]:
    """The lake's files and their modification times, less smelt's own records (run reports, builds)."""
    lake = home / "lake"
    return {
        f: f.stat().st_mtime_ns
        for f in lake.rglob("*")
        if f.is_file() and "_smelt" not in f.relative_to(lake).parts
    }


def test_an_underlying_without_contracts_is_named_in_a_warning(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", underlyings=("ZZZZ",))
    report = steps.ingest_options(steps.Resources.from_settings(settings), DAY)
    assert report.warnings == [
        "no option contracts exist for ZZZZ as of 2026-11-24: check the ticker (is it listed and optionable?); "
        "its manifests are empty"
    ]


@pytest.fixture
def served_simulator() -> Iterator[tuple[str, object]]:
    app = create_app(now=END)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(10)


def test_smelt_sim_url_sends_every_request_to_the_served_simulator(
    tmp_path: Path, served_simulator: tuple[str, object]
) -> None:
    url, app = served_simulator
    settings = make_settings(tmp_path / "home", underlyings=("IWM",), sim_url=url)
    report = steps.ingest_options(steps.Resources.from_settings(settings), DAY)
    served = app.state.stats  # type: ignore[attr-defined]
    assert report.requests == served.requests > 0
    assert {m.source for m in Lake.open(settings.lake).manifests()} == {"simulator"}


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (PolygonServerError("503"), True),
        (PolygonAuthError("401"), False),
        (PartCorruptError("truncated"), False),
        (OSError("connection reset"), True),
    ],
)
def test_retryable_follows_the_cause_chain(error: Exception, expected: bool) -> None:
    try:
        try:
            raise error
        except Exception as cause:
            raise StepError("ingest-stocks 2026-11-24: stock_bars: ...") from cause
    except StepError as wrapped:
        assert retryable(wrapped) is expected
