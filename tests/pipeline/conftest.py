"""End-to-end fixtures: a whole `smelt run` on the simulator, shared by the tests that only read it."""

from __future__ import annotations

import pytest

from tests.marks import builds_a_warehouse
from tests.pipeline.support import END, START, UNDERLYINGS, make_settings
from workflows import steps
from workflows.settings import Settings


@pytest.fixture(scope="module")
@builds_a_warehouse
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, steps.RunReport]:
    settings = make_settings(tmp_path_factory.mktemp("run") / "home")
    return settings, steps.run(
        steps.Resources.from_settings(settings), start=START, end=END, underlyings=UNDERLYINGS
    )
