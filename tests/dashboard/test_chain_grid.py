"""The chain grid's layout in Debian's Chromium: at a 1400 px window every cell shows its whole value (the
at-the-money row included) and the grid fits the window; narrower, the grid scrolls sideways, not the page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bench.dashboard_support import wait_for_charts
from dashboard.pages import chain
from dashboard.queries import Queries
from tests.dashboard.support import END
from tests.tooling import chromium

pytestmark = pytest.mark.browser

COLUMNS = 2 * len(chain.FIELDS) + 1

#: Scrolls the grid's rows from top to bottom (rows are rendered only near the view) and returns every cell
#: whose value does not fit: an element of the cell scrolling (an ellipsis), or the text wider than the cell.
OVERFLOWS = """async () => {
    const body = document.querySelector('#chain-grid .ag-body-viewport');
    const seen = new Map();
    let atm = 0;
    for (let top = 0; ; top += 300) {
        body.scrollTop = top;
        await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        for (const row of document.querySelectorAll('#chain-grid .ag-row')) {
            if (row.classList.contains('atm-row')) atm += 1;
            for (const cell of row.querySelectorAll('.ag-cell')) {
                const style = getComputedStyle(cell);
                const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
                const range = document.createRange();
                range.selectNodeContents(cell);
                const text = range.getBoundingClientRect().width;
                const clipped = [cell, ...cell.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth);
                if (clipped || text > room + 0.5) {
                    const key = row.getAttribute('row-id') + ' ' + cell.getAttribute('col-id');
                    seen.set(key, `${cell.innerText} (${text.toFixed(1)} px in ${room.toFixed(1)} px)`);
                }
            }
        }
        if (top + body.clientHeight >= body.scrollHeight) break;
    }
    return {atm, overflows: [...seen].map(([k, v]) => k + ': ' + v)};
}"""

FIT = """() => {
    const grid = document.querySelector('#chain-grid').getBoundingClientRect();
    const center = document.querySelector('#chain-grid .ag-center-cols-viewport');
    return {gridRight: grid.right, window: window.innerWidth, page: document.documentElement.scrollWidth,
            gridScroll: center.scrollWidth, gridVisible: center.clientWidth,
            columns: document.querySelectorAll('#chain-grid .ag-header-row-column .ag-header-cell').length};
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def open_chain(browser: Any, served: str, width: int, url: str) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 1000}, base_url=served)
    page.set_default_timeout(30_000)
    page.goto(url)
    wait_for_charts(page)
    page.wait_for_selector("#chain-grid .atm-row")
    return page


def test_every_chain_cell_shows_its_whole_value_and_the_grid_fits_1400px(
    browser: Any, served: str, q: Queries
) -> None:
    """The nearest and the farthest expiry of the widest-priced underlying, all strikes: the widest values."""
    expiries = [str(e)[:10] for e in q.expiries("SPY", END)["expiration_date"]]
    for expiry in (expiries[0], expiries[-1]):
        page = open_chain(browser, served, 1400, f"/chain?ticker=SPY&date={END}&expiry={expiry}&money=all")
        measured = page.evaluate(OVERFLOWS)
        assert measured["atm"] > 0, "the at-the-money row was never rendered"
        assert measured["overflows"] == [], f"expiry {expiry}: cells cut short: {measured['overflows'][:10]}"
        fit = page.evaluate(FIT)
        assert fit["columns"] == COLUMNS, fit
        assert fit["gridRight"] <= fit["window"] and fit["page"] <= fit["window"], fit
        assert fit["gridScroll"] <= fit["gridVisible"], f"the grid scrolls sideways at 1400 px: {fit}"
        page.close()


def test_a_narrow_window_scrolls_the_grid_not_the_page(browser: Any, served: str) -> None:
    page = open_chain(browser, served, 1000, f"/chain?ticker=SPY&date={END}&money=all")
    fit = page.evaluate(FIT)
    assert fit["page"] <= fit["window"], f"the page scrolls sideways: {fit}"
    assert fit["gridScroll"] > fit["gridVisible"], (
        f"the grid squeezed its columns instead of scrolling: {fit}"
    )
    assert page.evaluate(OVERFLOWS)["overflows"] == []
    page.close()
