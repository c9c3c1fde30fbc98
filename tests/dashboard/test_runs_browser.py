"""The Runs page's step times in Debian's Chromium: a run's slowest step is shown, and opening it lists every
step attempt in start order; a run whose report has none says so, with the reason on hover."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bench.dashboard_support import serve
from tests.dashboard.test_runs import STEPS, _store
from tests.tooling import chromium
from workflows.run_reports import FailedNode
from workflows.settings import load_settings

pytestmark = pytest.mark.browser


def test_a_runs_slowest_step_opens_onto_every_attempt(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home")
    _store(settings, "smelt-daily-aaaaa", "Succeeded", dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.UTC),
           [dt.date(2026, 11, 25)], steps_unavailable="403: the pod's ServiceAccount may not get workflows")  # fmt: skip
    _store(settings, "smelt-daily-bbbbb", "Failed", dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC),
           [dt.date(2026, 11, 27)], [FailedNode("run-day(0).load", "load", "Error (exit code 3)", 3)], STEPS)  # fmt: skip
    with serve(settings.home, ready="/healthz") as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900}, base_url=base)
        page.set_default_timeout(30_000)
        page.goto("/runs")
        summary = page.locator("#runs-table details summary")
        assert summary.inner_text() == "load (attempt 2 of 2) 2m 05s, failed"
        attempts = page.locator("#runs-table .run-steps li")
        assert not attempts.first.is_visible()  # closed until asked
        summary.click()
        assert attempts.all_inner_texts() == [
            "ingest-stocks 42s", "load (attempt 1 of 2) 1m 02s, failed", "load (attempt 2 of 2) 2m 05s, failed",
            "onExit not finished, running",
        ]  # fmt: skip
        assert attempts.nth(2).get_attribute("title") == "load(1) (load), exit 3"
        unrecorded = page.get_by_text("not recorded")
        assert unrecorded.get_attribute("title", timeout=5_000).startswith("403: the pod's ServiceAccount")
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"the opened row pushes the page sideways: {width}"
