"""The dashboard keeps answering while `smelt load` and `smelt transform` write the warehouse, then shows
the new data once the transform has published it."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bench.dashboard_support import ConsoleLog, serve, wait_for_charts
from tests.clock import ROOT, smelt_on_session_clock
from tests.dashboard.support import END, SIM_NOW, START, UNDERLYINGS
from tests.tooling import chromium
from workflows import steps

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_DAY = START.replace(day=START.day - 1)  # Thursday 2026-10-22: a trading day before the built history


class Poller(threading.Thread):
    """Asks /readyz and /chain over and over and notes every answer, and how many came while a writer ran.

    (It never opens the DuckDB file itself: even a read-only open takes a lock that would fail the writer.)
    """

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.answers: list[tuple[str, int]] = []
        self.while_writing = 0
        self.writing = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for path in ("/readyz", f"/chain?ticker=AAPL&date={END}"):
                try:
                    with urllib.request.urlopen(self.base + path, timeout=20) as response:
                        self.answers.append((path, response.status))
                except Exception as exc:  # recorded, and the test fails on it
                    self.answers.append((path, getattr(exc, "code", 0) or -1))
                if self.writing.is_set():
                    self.while_writing += 1
            time.sleep(0.2)


def _smelt(home: Path, *args: str) -> subprocess.Popen[bytes]:
    """``smelt ARGS`` as its own process, on the session's clock: it continues a warehouse the session built."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMELT_", "POLYGON_", "SNOWFLAKE_"))}
    env.update(SMELT_HOME=str(home), SMELT_UNDERLYINGS=",".join(UNDERLYINGS), SMELT_LOG_FORMAT="json")
    env.update(SMELT_SIM_NOW=SIM_NOW.isoformat())
    return subprocess.Popen(
        smelt_on_session_clock(*args), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _version(base: str) -> str:
    import json

    with urllib.request.urlopen(base + "/readyz", timeout=20) as response:
        return str(json.loads(response.read())["version"])


def test_the_dashboard_answers_during_load_and_transform(home_copy: Any, tmp_path: Path) -> None:
    resources = steps.Resources.from_settings(home_copy)
    steps.ingest_stocks(resources, NEW_DAY)
    steps.ingest_options(resources, NEW_DAY, underlyings=UNDERLYINGS)
    with serve(home_copy.home, log=tmp_path / "dashboard.log") as base, chromium() as browser:
        before = _version(base)
        poller = Poller(base)
        poller.start()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        log = ConsoleLog(page)
        pages_during = 0
        try:
            for args in (("load", "--date", NEW_DAY.isoformat()), ("transform",), ("publish",)):
                writer = _smelt(home_copy.home, *args)
                poller.writing.set()
                while writer.poll() is None:
                    page.goto(f"{base}/chain?ticker=AAPL&date={END}")
                    wait_for_charts(page)
                    assert page.locator("#chain-grid .ag-row").count() > 0
                    pages_during += 1
                poller.writing.clear()
                _, stderr = writer.communicate()
                assert writer.returncode == 0, stderr.decode()[-2000:]
        finally:
            poller.stop.set()
            poller.join(timeout=30)
        failed = [(path, status) for path, status in poller.answers if status != 200]
        assert failed == []
        assert poller.while_writing >= 10, "too few answers while the writers held the warehouse file"
        assert pages_during >= 2 and log.errors == []
        # The publish step made a new snapshot; the dashboard switched to it and shows the new day.
        deadline = time.monotonic() + 30
        while _version(base) == before and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _version(base) != before
        page.goto(f"{base}/chain?ticker=AAPL&date={NEW_DAY}")
        wait_for_charts(page)
        assert page.locator("#chain-grid .ag-row").count() > 0
        assert "no data" not in page.inner_text("#chain-note")
