"""Fixtures of the simulator tests (the client itself lives in ``support.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from tests.simulator.support import Client
from workflows.simulator import create_app


@pytest.fixture
def app() -> Starlette:
    """Replays any day's chain through X-Sim-Now (``snapshot_history``); the vendor-like default, which
    shows only the latest session, is tested on its own in test_sim_pricing.py."""
    return create_app(seed=7, snapshot_history=True)


@pytest.fixture
def client(app: Starlette) -> Client:
    return Client(app)


@pytest.fixture(scope="session")
def fixture_json(polygon_fixtures: Path) -> Any:
    def load(name: str) -> Any:
        return json.loads((polygon_fixtures / name).read_text())

    return load
