"""The provenance panel in Debian's Chromium: clicking a contract's cell in the chain grid of the served
dashboard shows that contract's request id, as the raw landing row recorded it."""

from __future__ import annotations

import re
from typing import Any

import duckdb
import pytest

from bench.dashboard_support import wait_for_charts
from tests.dashboard.support import END
from tests.dashboard.test_browser import browser, page  # noqa: F401 (the browser and its page, shared)
from workflows.settings import Settings

# the session's dashboard build may be set up by this module: minutes on a busy 2-core machine
pytestmark = [pytest.mark.browser, pytest.mark.timeout(1200)]


def test_clicking_a_chain_cell_shows_the_contracts_request_id(page: Any, built_home: Settings) -> None:  # noqa: F811
    page.goto(f"/chain?ticker=SPY&date={END}&money=5")
    wait_for_charts(page)
    page.locator("#chain-grid .ag-center-cols-container .atm-row [col-id='put_delta']").first.click()
    page.wait_for_function(
        "() => document.querySelector('#chain-provenance').innerText.includes('request id')"
    )
    text = page.inner_text("#chain-provenance")
    found = re.search(r"O:SPY\d{6}P\d{8}", text)
    assert found, text
    with duckdb.connect(str(built_home.duckdb.path), read_only=True) as con:
        [(request_id,)] = con.execute(
            "select record->>'$._meta.request_id' from raw.polygon_option_snapshots "
            "where record->>'$.details.ticker' = ? and trade_date = ?",
            [found.group(0), END],
        ).fetchall()
    assert request_id in text
    assert page.console_log.errors == []
