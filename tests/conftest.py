"""Shared test fixtures: paths, settings isolation."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import marks
from tests.clock import TEST_CLOCK

ROOT = Path(__file__).resolve().parents[1]
POLYGON_FIXTURES = ROOT / "tests" / "fixtures" / "polygon"

os.environ.setdefault("DO_NOT_TRACK", "1")
# The suites written for the REST range path keep it (the embedded default backfills from flat files since
# decision 67): set here as well as per test, because module-scoped fixtures build before the per-test
# environment below exists. tests/flatfiles opts in per test.
os.environ["SMELT_SIM_FLATFILES"] = "false"
# Likewise the embedded run's replay of the latest sessions as daily runs (decision 107): the suites built on
# the backfill shape of past days keep it; tests that want the demo's shape opt in (sim_daily_runs=...).
os.environ["SMELT_SIM_DAILY_RUNS"] = "0"

#: The wall clock every test sees (tests/clock.py): a fixed instant far from every fixture's dates. It runs from
#: before collection to the session's end and ticks, so durations and timeouts hold. A test that builds data
#: through the simulator pins the simulator's clock to its own range (``sim_now``); one that leans on today's
#: date instead fails here on the day it is written, not weeks later when the real date has moved on (issue
#: 19). Code that takes ``now`` as a parameter is tested with explicit instants. Other runtimes keep the real
#: clock (DuckDB's ``now()``, Go, Chromium, the file system's mtimes), and so do child processes unless started
#: with ``tests.clock.smelt_on_session_clock`` (or, for ``smelt run``'s loader, ``loader_on_session_clock``);
#: tests that compare against those clocks read them there.
_traveller: Any = None


def pytest_configure(config: pytest.Config) -> None:
    """Start the fixed clock before any test module is imported (module-level dates included)."""
    global _traveller
    import time_machine

    _traveller = time_machine.travel(TEST_CLOCK, tick=True)
    _traveller.start()
    from tests.clock import loader_on_session_clock

    # smelt run's loader process on the same clock (tests/clock.py); the module, not the `run` function that
    # workflows.steps exports under the same name
    importlib.import_module("workflows.steps.run")._loader = loader_on_session_clock


#: Tests that need what ``make test`` builds in the background (scripts/test.sh): Go tools, images, a cluster.
NEEDS_A_BUILD = ("tools", "cluster", "images")


def pytest_itemcollected(item: pytest.Item) -> None:
    """The marks a test gets from what it uses (tests/marks.py), before `-m` selects and the order below."""
    for mark in marks.implied(item):
        item.add_marker(mark)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests that need a build run last (a stable sort keeps each group's order): on a cold machine the
    others run while the tools build, instead of after."""
    items.sort(key=lambda item: any(item.get_closest_marker(m) for m in NEEDS_A_BUILD))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _traveller is not None:
        _traveller.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Keep the running test at hand for ``marks.needs`` (fixtures of any scope set up inside it)."""
    marks.RUNNING[:] = [item]
    try:
        return (yield)
    finally:
        marks.RUNNING.clear()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's SMELT_*/POLYGON_*/SNOWFLAKE_* settings or writes to ./.smelt."""
    for name in list(os.environ):
        if name.startswith(("SMELT_", "POLYGON_", "SNOWFLAKE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SMELT_HOME", str(tmp_path / "smelt-home"))
    # The embedded run replays its latest sessions as daily runs and backfills older days from flat files by
    # default (decisions 107, 67); the suites written for the REST range path keep it, and the suites for
    # either default (tests/flatfiles, the demo-shaped tests) opt in or clear these.
    monkeypatch.setenv("SMELT_SIM_FLATFILES", "false")
    monkeypatch.setenv("SMELT_SIM_DAILY_RUNS", "0")


@pytest.fixture(scope="session")
def polygon_fixtures() -> Path:
    """Recorded and documented API responses kept in the repository (see its README)."""
    return POLYGON_FIXTURES


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API server (moto's server mode) on a free loopback port, for the whole session."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    """A fresh bucket and a boto3 client for it; AWS credentials are dummies scoped to the test."""
    import uuid

    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    bucket = f"smelt-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return client, bucket


_SECONDS: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up test time per suite folder, for the closing summary."""
    parts = report.nodeid.split("/")
    suite = "/".join(parts[:2]) if len(parts) > 2 else parts[0].split("::")[0]
    _SECONDS[suite] = _SECONDS.get(suite, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Where the suite's time went, so a slow first run says which part is slow."""
    if not _SECONDS:
        return
    terminalreporter.section("time per suite")
    for suite, seconds in sorted(_SECONDS.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{seconds:8.1f}s  {suite}")
