"""The dashboard in Debian's Chromium (headless, through Playwright; never a downloaded browser), served by
`smelt dashboard` over a warehouse built by a real `smelt run`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from bench.dashboard_support import CHROMIUM_ARGS, ConsoleLog, wait_for_charts
from dashboard.app import BANNER
from dashboard.pages import PAGES
from tests.dashboard.support import END, HOLIDAY, INJECTIONS
from tests.tooling import chromium, require_chromium

pytestmark = pytest.mark.browser

D = END.isoformat()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any, served: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=served)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.console_log = ConsoleLog(pg)  # type: ignore[attr-defined]
    pg.requested = []  # type: ignore[attr-defined]
    pg.on("request", lambda r: pg.requested.append(r.url))  # type: ignore[attr-defined]
    yield pg
    context.close()


def query(pg: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(pg.url).query).items()}


def figure(pg: Any, graph_id: str) -> dict[str, Any]:
    """What plotly drew in a dcc.Graph: its traces' types and x lengths, and the layout's colours."""
    return pg.evaluate(
        """id => {
            const gd = document.querySelector('#' + id + ' .js-plotly-plot');
            if (!gd || !gd.data) return null;
            return {types: gd.data.map(t => t.type || 'scatter'), xs: gd.data.map(t => (t.x || []).length),
                    paper: gd._fullLayout.paper_bgcolor, title: (gd.layout.title || {}).text || ''};
        }""",
        graph_id,
    )


@pytest.mark.parametrize("page_module", PAGES, ids=[p.PREFIX for p in PAGES])
def test_each_page_loads_with_data_the_banner_and_no_console_errors(
    page: Any, served: str, page_module: Any
) -> None:
    page.goto(f"{page_module.PATH}?ticker=AAPL&date={D}")
    wait_for_charts(page)
    assert page.locator(".notice-error, .notice-refused").count() == 0, page.inner_text("#page")
    drawn = page.locator("#page .main-svg, #page .ag-row, #page table").count()
    assert drawn > 0
    banner = page.locator("#sim-banner")
    banner.wait_for(state="visible")  # shown by a callback once the source is known: on a cold server, later
    assert banner.inner_text() == BANNER
    assert page.console_log.errors == []
    foreign = [u for u in page.requested if not u.startswith(served) and not u.startswith("data:")]
    assert foreign == []  # no CDN: every asset comes from the app
    assert page.locator(f"#nav-{page_module.PREFIX}.active").count() == 1


def test_a_control_changes_the_chart_and_the_url(page: Any) -> None:
    page.goto(f"/market?ticker=AAPL&date={D}&range=6m")
    wait_for_charts(page)
    before = figure(page, "market-chart")
    assert "candlestick" in before["types"]
    page.get_by_text("as traded", exact=True).click()
    page.wait_for_function("() => location.search.includes('adj=raw')")
    page.wait_for_function(
        "() => document.querySelector('#market-chart .js-plotly-plot').layout.title.text.includes('as traded')"
    )
    assert query(page)["adj"] == "raw"
    page.goto(f"/chain?ticker=SPY&date={D}&money=all")
    wait_for_charts(page)
    rows_all = page.locator("#chain-grid .ag-center-cols-container .ag-row").count()
    page.get_by_text("±5%", exact=True).click()
    page.wait_for_function(
        "n => document.querySelectorAll('#chain-grid .ag-center-cols-container .ag-row').length < n",
        arg=rows_all,
    )
    assert query(page)["money"] == "5"
    assert page.locator("#chain-grid .atm-row").count() >= 1  # the at-the-money strike is marked
    assert page.console_log.errors == []


def test_a_shared_url_restores_the_view(page: Any, browser: Any, served: str) -> None:
    page.goto(f"/positioning?ticker=AAPL&date={D}")
    wait_for_charts(page)
    page.get_by_text("volume", exact=True).click()
    page.wait_for_function("() => location.search.includes('metric=volume')")
    page.get_by_text("±10%", exact=True).click()
    page.wait_for_function("() => location.search.includes('band=10')")
    shared = page.url
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        fresh = other.new_page()
        log = ConsoleLog(fresh)
        fresh.goto(shared)
        wait_for_charts(fresh)
        assert fresh.locator("#pos-metric input[value=volume]").is_checked()
        assert fresh.locator("#pos-band input[value='10']").is_checked()
        assert "volume by strike" in figure(fresh, "pos-oi")["title"]
        assert query(fresh) == query(page)
        assert log.errors == []
    finally:
        other.close()
    # Back in history restores the previous view on the same page.
    page.go_back()
    page.wait_for_function("() => !location.search.includes('band=10')")
    page.wait_for_function("() => document.querySelector('#pos-band input[value=\"20\"]').checked")


def test_the_strategy_lives_in_the_url(page: Any) -> None:
    page.goto(f"/strategy?ticker=AAPL&date={D}")
    wait_for_charts(page)
    page.get_by_role("button", name="Add preset").click()
    page.wait_for_function("() => location.search.includes('legs=')")
    page.wait_for_selector("#strat-legs-grid .ag-row")
    assert page.locator("#strat-legs-grid .ag-center-cols-container .ag-row").count() == 2  # a straddle
    page.wait_for_selector("#strat-kpis .kpi")
    assert "breakevens" in page.inner_text("#strat-kpis").lower()
    url = page.url
    page.goto("about:blank")
    page.goto(url)
    wait_for_charts(page)
    page.wait_for_selector("#strat-legs-grid .ag-row")
    assert page.locator("#strat-legs-grid .ag-center-cols-container .ag-row").count() == 2
    assert len(figure(page, "strat-payoff")["types"]) == 2  # at expiry and today
    assert page.console_log.errors == []


def test_theme_switch_changes_the_chart_template_and_persists(page: Any) -> None:
    page.goto(f"/volatility?ticker=SPY&date={D}")
    wait_for_charts(page)
    assert figure(page, "vol-term")["paper"] in ("#ffffff", "#fff", "rgb(255, 255, 255)")
    page.get_by_role("button", name="Dark theme").click()
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    page.wait_for_function(
        "() => document.querySelector('#vol-term .js-plotly-plot')._fullLayout.paper_bgcolor === '#161b22'"
    )
    assert page.get_by_role("button", name="Light theme").is_visible()
    page.reload()
    wait_for_charts(page)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.wait_for_function(
        "() => document.querySelector('#vol-term .js-plotly-plot')._fullLayout.paper_bgcolor === '#161b22'"
    )
    assert page.console_log.errors == []


def test_controls_are_labelled_and_keyboard_reachable(page: Any) -> None:
    page.goto(f"/chain?ticker=SPY&date={D}")
    wait_for_charts(page)
    groups = page.locator("#page .control")
    labels = [
        groups.nth(i).locator("label.control-label").text_content().strip() for i in range(groups.count())
    ]
    assert labels and all(labels)
    for i in range(groups.count()):
        labelled_by = groups.nth(i).get_attribute("aria-labelledby")
        assert labelled_by and page.locator(f"#{labelled_by}").count() == 1
    reached: set[str] = set()
    page.locator("body").click(position={"x": 5, "y": 300})
    for _ in range(60):
        page.keyboard.press("Tab")
        label = page.evaluate(
            "() => { const c = document.activeElement && document.activeElement.closest('.control');"
            " return c ? c.querySelector('label.control-label').textContent.trim() : null; }"
        )
        if label:
            reached.add(label)
    assert reached == set(labels)


def test_bad_or_empty_urls_show_messages_not_tracebacks(page: Any) -> None:
    page.goto("/chain?ticker=" + INJECTIONS[0].replace(" ", "%20").replace("'", "%27").replace(";", "%3B"))
    wait_for_charts(page)
    refusal = page.locator(".notice-refused").first.inner_text()
    assert "is not a ticker" in refusal and "showing SPY" in refusal
    page.goto(f"/market?ticker=AAPL&date={HOLIDAY}")
    wait_for_charts(page)
    assert "not an NYSE trading day" in page.locator("#market-chart-note").inner_text()
    assert not page.locator("#market-chart").is_visible()  # no blank chart
    page.goto("/nowhere")
    page.wait_for_selector("text=is not a page of this dashboard")
    text = page.inner_text("body")
    assert "Traceback" not in text and "Error" not in text
    assert page.console_log.errors == []


def test_the_3d_surface_draws_under_the_content_security_policy(browser: Any, served: str) -> None:
    """WebGL needs a GL implementation: headless Chromium gets SwiftShader here, for this one test."""
    swiftshader = ["--enable-unsafe-swiftshader", "--use-angle=swiftshader"]
    args = [a for a in CHROMIUM_ARGS if a != "--disable-gpu"] + swiftshader
    gl = browser.browser_type.launch(executable_path=require_chromium(), headless=True, args=args)
    try:
        pg = gl.new_page(viewport={"width": 1400, "height": 1000})
        log = ConsoleLog(pg)
        pg.goto(f"{served}/volatility?ticker=AAPL&date={D}&view=3d")
        wait_for_charts(pg)
        pg.wait_for_selector("#vol-surface .gl-container canvas")
        assert figure(pg, "vol-surface")["types"] == ["surface"]
        assert log.errors == []  # a CSP violation (unsafe-eval) would be a console error
    finally:
        gl.close()
