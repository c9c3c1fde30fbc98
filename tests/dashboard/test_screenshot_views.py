"""`make screenshots` has a view for every page: a page added without one stopped the command halfway."""

from __future__ import annotations

from bench.dashboard_screenshots import VIEWS
from dashboard.pages import PAGES


def test_every_page_has_a_screenshot_view() -> None:
    assert set(VIEWS) == {page.PATH.strip("/") for page in PAGES}
