"""The dashboard's fixtures: one small `smelt run` (two underlyings, five weeks) built once per session and
published as a marts snapshot, queries over it that record every statement, and a served dashboard."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.marts import Handle, SnapshotSource
from dashboard.queries import Queries
from tests.dashboard.support import END, REPLAYED, REPLAYED_UNDERLYINGS, SIM_NOW, START, UNDERLYINGS
from tests.marks import builds_a_warehouse
from tests.tooling import kubeconfig  # noqa: F401 (the local control plane, for the chart's install test)
from workflows import steps
from workflows.marts_contract import current_version
from workflows.publish import snapshot_root
from workflows.settings import Settings, load_settings


class RecordingSource(SnapshotSource):
    """The real snapshot source, remembering every statement and its parameters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    def run(self, handle: Handle, sql: str, params: Any) -> Any:
        self.statements.append((sql, tuple(params)))
        return super().run(handle, sql, params)


@pytest.fixture(scope="session")
@builds_a_warehouse
def built_home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """SMELT_HOME after `smelt run` over START..END for two underlyings, with a published snapshot."""
    home = tmp_path_factory.mktemp("dashboard") / "home"
    settings = _settings(home)
    steps.run(steps.Resources.from_settings(settings), start=START, end=END, underlyings=UNDERLYINGS)
    assert current_version(snapshot_root(settings)) is not None, "the transform step publishes the marts"
    return settings


@pytest.fixture(scope="session")
@builds_a_warehouse
def replayed_home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """SMELT_HOME shaped like `make demo`'s: every day of REPLAYED came through the chain snapshot, the past ones
    as replayed daily runs (decision 107), so the open-interest history is there. One underlying keeps it cheap."""
    home = tmp_path_factory.mktemp("replayed") / "home"
    settings = load_settings(home=home, underlyings=REPLAYED_UNDERLYINGS, log_format="json", sim_now=SIM_NOW,
                             sim_daily_runs=30)  # fmt: skip
    report = steps.run(steps.Resources.from_settings(settings), start=REPLAYED[0], end=REPLAYED[-1])
    assert report.days == list(REPLAYED)
    return settings


@pytest.fixture
def replayed(replayed_home: Settings) -> Queries:
    return Queries.over(SnapshotSource(snapshot_root(replayed_home), check_seconds=0))


@pytest.fixture
def home_copy(built_home: Settings, tmp_path: Path) -> Settings:
    """A private copy of the built home, for tests that change the warehouse or the snapshot."""
    target = tmp_path / "home"
    shutil.copytree(built_home.home, target)
    return _settings(target)


def _settings(home: Path) -> Settings:
    return load_settings(home=home, underlyings=UNDERLYINGS, log_format="json", sim_now=SIM_NOW)


@pytest.fixture
def source(built_home: Settings) -> RecordingSource:
    return RecordingSource(snapshot_root(built_home), check_seconds=0)


@pytest.fixture
def q(source: RecordingSource) -> Queries:
    return Queries.over(source)


@pytest.fixture(scope="session")
def served(built_home: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`smelt dashboard` over the built home, for the browser tests (one server per session)."""
    from bench.dashboard_support import serve

    log = tmp_path_factory.mktemp("served") / "dashboard.log"
    with serve(built_home.home, log=log) as base:
        yield base
