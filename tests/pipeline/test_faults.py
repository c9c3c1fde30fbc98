"""Faults end to end: a 429 storm, a crash before the manifest, concurrent and corrupt loads, 401, redaction."""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.pipeline.support import END, make_settings
from workflows import steps
from workflows.lake import FolderStorage, Lake
from workflows.settings import Settings

DAY = dt.date(2026, 11, 24)
FAKE_KEY = "pk_FAKE_0123456789_must_never_print"


def smelt(
    settings: Settings, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process, as a container would run it (the simulator's clock pinned
    as in ``settings``: a child process does not see the test session's fixed clock)."""
    pinned = {"SMELT_SIM_NOW": settings.simulator.now.isoformat()} if settings.simulator.now else {}
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SMELT_", "POLYGON_"))},
        "SMELT_HOME": str(settings.home), "SMELT_UNDERLYINGS": ",".join(settings.underlyings),
        "SMELT_LOG_FORMAT": "json", **pinned, **(env or {}),
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "workflows", *args], env=full_env, capture_output=True, text=True, timeout=300
    )


def landing_rows(settings: Settings, table: str) -> int:
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        return int(con.execute(f"select count(*) from raw.{table}").fetchone()[0])


def test_a_429_storm_still_completes_with_the_same_rows(tmp_path: Path) -> None:
    calm = steps.ingest_options(
        steps.Resources.from_settings(make_settings(tmp_path / "calm", underlyings=("AAPL", "IWM"))), DAY
    )
    stormy_settings = make_settings(
        tmp_path / "storm", underlyings=("AAPL", "IWM"), sim_faults="rate_429=0.6,retry_after=0.05"
    )
    storm = steps.ingest_options(steps.Resources.from_settings(stormy_settings), DAY)
    assert storm.rows == calm.rows > 0
    assert sum(u.retries for u in storm.units) > 0
    assert storm.requests > calm.requests


@pytest.mark.parametrize(
    "faults",
    [
        "error_5xx=0.5,max_consecutive=1",
        "html_504=0.5,max_consecutive=1",
        "truncate=0.5,max_consecutive=1",
    ],
)
def test_transient_faults_are_retried_to_the_same_rows(tmp_path: Path, faults: str) -> None:
    calm = steps.ingest_options(
        steps.Resources.from_settings(make_settings(tmp_path / "calm", underlyings=("IWM",))), DAY
    )
    faulty = steps.ingest_options(
        steps.Resources.from_settings(
            make_settings(tmp_path / "faulty", underlyings=("IWM",), sim_faults=faults)
        ),
        DAY,
    )
    assert faulty.rows == calm.rows > 0
    assert sum(u.retries for u in faulty.units) > 0


@pytest.mark.parametrize(
    ("faults", "cause"),
    [
        ("next_url_loop,paths=/v3/snapshot", r"next_url"),
        ("retype=strike_price:str,paths=/v3/snapshot", r"strike_price"),
        ("drop=details,paths=/v3/snapshot", r"details"),
        ("rate_429=1,retry_after=0,max_consecutive=50", r"PolygonRateLimitError"),
    ],
)
def test_permanent_faults_stop_the_step_naming_day_dataset_and_cause(
    tmp_path: Path, faults: str, cause: str
) -> None:
    settings = make_settings(tmp_path / "home", underlyings=("IWM",), sim_faults=faults)
    with pytest.raises(steps.StepError) as failure:
        steps.ingest_options(steps.Resources.from_settings(settings), DAY)
    message = str(failure.value)
    assert message.startswith("ingest-options 2026-11-24:")
    assert re.search(r"option_(snapshots|contracts) for IWM", message), message
    assert re.search(cause, message), message
    assert Lake.open(settings.lake).manifests("option_snapshots") == []  # nothing half-written is visible


@pytest.mark.slow  # a day ingested and loaded twice
def test_crash_between_parts_and_manifest_then_rerun_is_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path / "home", underlyings=("SPY",))
    resources = steps.Resources.from_settings(settings)
    real = FolderStorage.put_exclusive

    def crash_on_snapshots(self: FolderStorage, key: str, body: bytes) -> None:
        if "/option_snapshots/" in key:
            raise OSError("simulated crash after the parts, before the manifest")
        real(self, key, body)

    monkeypatch.setattr(FolderStorage, "put_exclusive", crash_on_snapshots)
    with pytest.raises(
        steps.StepError, match=r"ingest-options 2026-11-24: 1 of 3 units failed.*simulated crash"
    ):
        steps.ingest_options(resources, DAY)
    lake = Lake.open(settings.lake)
    orphans = list((settings.home / "lake" / "raw/polygon/option_snapshots").rglob("*.ndjson.gz"))
    assert orphans and lake.manifests("option_snapshots") == []  # parts written, invisible
    steps.load(resources, DAY)
    assert landing_rows(settings, "polygon_option_snapshots") == 0

    monkeypatch.setattr(FolderStorage, "put_exclusive", real)
    steps.ingest_options(resources, DAY)
    steps.load(resources, DAY)
    (manifest,) = lake.manifests("option_snapshots")
    assert landing_rows(settings, "polygon_option_snapshots") == manifest.rows
    first, second = lake.manifests("option_contracts")  # both runs' contracts: dbt keeps the newest
    assert landing_rows(settings, "polygon_option_contracts") == first.rows + second.rows

    steps.ingest_stocks(resources, DAY)
    steps.load(resources, DAY)
    steps.transform(resources)
    with duckdb.connect(str(settings.duckdb.path)) as con:
        for table, key in [
            ("staging.stg_polygon__option_contracts", "option_ticker, as_of_date"),
            ("marts.mart_option_chain", "option_ticker, trade_date"),
            ("marts.mart_polygon__options_stocks_joined", "option_ticker, trade_date"),
        ]:
            rows, keys = con.execute(f"select count(*), count(distinct ({key})) from {table}").fetchone()
            assert rows == keys == manifest.rows, table


def test_two_concurrent_loads_of_one_day_do_not_double_load(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", underlyings=("QQQ", "IWM"))
    resources = steps.Resources.from_settings(settings)
    steps.ingest_stocks(resources, DAY)
    steps.ingest_options(resources, DAY)
    env = {"SMELT_LOG_LEVEL": "info"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "workflows", "load", "--date", DAY.isoformat()],
            env={**os.environ, "SMELT_HOME": str(settings.home), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    manifests = Lake.open(settings.lake).manifests(day=None)
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        ledger = con.execute("select manifest_key, count(*) from raw.smelt_loads group by 1").fetchall()
    assert sorted(k for k, _ in ledger) == sorted(m.key for m in manifests)
    assert all(n == 1 for _, n in ledger)
    assert landing_rows(settings, "polygon_option_snapshots") == sum(
        m.rows for m in manifests if m.dataset == "option_snapshots"
    )


def test_a_truncated_part_is_rejected_and_nothing_of_its_manifest_loads(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", underlyings=("AAPL", "TSLA"))
    steps.ingest_options(steps.Resources.from_settings(settings), DAY)
    lake = Lake.open(settings.lake)
    victim = next(m for m in lake.manifests("option_snapshots") if m.underlying == "TSLA")
    path = settings.home / "lake" / victim.parts[0].key
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    result = smelt(settings, "load", "--date", DAY.isoformat())
    assert result.returncode == 3  # loading again cannot help: the day's ingest must be re-run
    assert victim.parts[0].key in result.stderr and "does not match its manifest" in result.stderr
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        tsla = con.execute(
            "select count(*) from raw.polygon_option_snapshots where underlying = 'TSLA'"
        ).fetchone()[0]
        loaded = {r[0] for r in con.execute("select manifest_key from raw.smelt_loads").fetchall()}
    assert tsla == 0 and victim.key not in loaded
    assert len(loaded) == 5  # the other underlying's three manifests, TSLA's contracts and dividends


@pytest.fixture
def served_simulator() -> Iterator[str]:
    """The simulator over real HTTP on a free loopback port, accepting only a different key."""
    import uvicorn

    from workflows.simulator import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(api_key="the-only-valid-key", now=END),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_polygon_mode_without_a_key_is_an_error_not_simulated_data(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    result = smelt(settings, "ingest", "stocks", "--date", DAY.isoformat(), env={"SMELT_SOURCE": "polygon"})
    assert result.returncode == 2
    assert "SMELT_SOURCE=polygon needs POLYGON_API_KEY" in result.stderr
    assert not (settings.home / "lake").exists()


def test_401_fails_fast_and_the_key_never_appears(tmp_path: Path, served_simulator: str) -> None:
    settings = make_settings(tmp_path / "home")
    env = {"SMELT_SOURCE": "polygon", "POLYGON_API_KEY": FAKE_KEY, "POLYGON_BASE_URL": served_simulator,
           "POLYGON_RATE_PER_MINUTE": "6000", "SMELT_LOG_LEVEL": "debug"}  # fmt: skip
    started = time.monotonic()
    result = smelt(settings, "ingest", "stocks", "--date", DAY.isoformat(), env=env)
    assert result.returncode == 3  # permanent: Argo's retry expression does not retry it
    assert time.monotonic() - started < 30  # no retries: a 401 is final
    assert "ingest-stocks 2026-11-24" in result.stderr and "POLYGON_API_KEY" in result.stderr
    assert FAKE_KEY not in result.stdout + result.stderr


def test_a_throttled_step_exits_1_so_the_orchestrator_retries_it(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    env = {"SMELT_SIM_FAULTS": "rate_429=1,retry_after=600"}  # longer than the client waits: fail now
    result = smelt(settings, "ingest", "stocks", "--date", DAY.isoformat(), env=env)
    assert result.returncode == 1, result.stderr
    assert "re-run the step later" in result.stderr and "running it again may succeed" in result.stderr


@pytest.mark.slow  # a day ingested through Polygon's backfill path, in child processes
def test_a_successful_polygon_mode_run_never_prints_the_key(tmp_path: Path, served_simulator: str) -> None:
    settings = make_settings(tmp_path / "home", underlyings=("IWM",))
    env = {"SMELT_SOURCE": "polygon", "POLYGON_API_KEY": "the-only-valid-key",
           "POLYGON_BASE_URL": served_simulator, "POLYGON_RATE_PER_MINUTE": "60000", "SMELT_LOG_LEVEL": "debug"}  # fmt: skip
    stocks = smelt(settings, "ingest", "stocks", "--date", DAY.isoformat(), env=env)
    # a past day on Polygon takes the backfill path: contracts, then one range request per contract
    options = smelt(settings, "ingest", "options", "--date", DAY.isoformat(), env=env)
    for result in (stocks, options):
        assert result.returncode == 0, result.stderr
        assert "the-only-valid-key" not in result.stdout + result.stderr
    assert "ingest-stocks done" in stocks.stderr and "ingest-options done" in options.stderr
    lake = Lake.open(settings.lake)
    (bars,) = lake.manifests("stock_bars")
    (option_bars,) = lake.manifests("option_bars")
    assert bars.source == option_bars.source == "polygon" and bars.rows > 1000 and option_bars.rows > 100


@pytest.mark.slow  # a dbt build
def test_a_failed_dbt_test_fails_the_transform_naming_the_test_and_model(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", underlyings=("IWM",))
    resources = steps.Resources.from_settings(settings)
    steps.ingest_stocks(resources, DAY)
    steps.ingest_options(resources, DAY)
    steps.load(resources, DAY)
    with duckdb.connect(str(settings.duckdb.path)) as con:  # a contract type the API never sends
        con.execute(
            """insert into raw.polygon_option_contracts
               select json_merge_patch(record, '{"contract_type": "banana", "ticker": "O:IWM261218X00100000"}'),
                      trade_date, underlying, 'bad/part.ndjson.gz', 1, now()
               from raw.polygon_option_contracts limit 1"""
        )
    with pytest.raises(steps.StepError) as failure:
        steps.transform(resources)
    message = str(failure.value)
    assert message.startswith("transform: dbt build failed:")
    assert "accepted_values" in message and "stg_polygon__option_contracts" in message
    assert "contract_type" in message
