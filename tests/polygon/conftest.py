"""Fixtures for the Polygon client tests (helpers live in ``support.py``)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
import structlog

from tests.polygon.support import RecordingSleep
from workflows import logs
from workflows.polygon import endpoints, pacing


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture(autouse=True)
def _fresh_drift_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Schema drift is reported once per process; each test starts with nothing reported."""
    monkeypatch.setattr(endpoints, "_drift_seen", set())


@pytest.fixture(autouse=True)
def _fresh_rate_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate buckets live as long as the process; each test starts with a whole burst available."""
    monkeypatch.setattr(pacing, "_buckets", {})


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """All log output (structlog and stdlib) as JSON lines; the logging setup is restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    noisy = {
        name: logging.getLogger(name).level
        for name in ("httpx", "httpcore", "botocore", "boto3", "urllib3", "s3transfer")
    }
    saved_config = structlog.get_config()
    stream = io.StringIO()
    logs.configure(fmt="json", level="debug", stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)
        structlog.configure(**saved_config)
