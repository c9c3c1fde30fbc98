"""Figures written out as plain dicts (``figures.figure``) are exactly what plotly's validated graph objects
would send, in plain JSON types: every property valid as written, nothing plotly would change, the same JSON as the graph-object
builds they replaced (``tests/dashboard/figures_plotly.py``), and the subplot geometry make_subplots lays out."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots
from plotly.utils import PlotlyJSONEncoder

from dashboard import figures
from dashboard.marts import SnapshotSource
from dashboard.queries import Queries
from tests.dashboard import figures_plotly
from tests.dashboard.figures_plotly import BUILDERS
from tests.dashboard.test_callbacks import BACKFILLED, CHARTS
from workflows.publish import snapshot_root
from workflows.settings import Settings

OVERLAYS = ({"sma20", "sma50", "sma200", "bollinger", "move"}, set(), {"move"})
#: Views beyond each chart's defaults (tests/dashboard/test_callbacks.py): the other theme, the backfill path
#: (no open interest: the volume proxy for gamma), the other metric, and days or inputs that draw nothing.
VIEWS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("market", {"theme": "light", "overlays": ["sma20", "sma50", "sma200", "bollinger", "move"]}),
    ("market", {"adj": "raw", "overlays": []}),
    ("smile", {"theme": "dark"}),
    ("term", {"theme": "dark", "day": BACKFILLED}),
    ("surface", {"theme": "light", "day": BACKFILLED}),
    ("surface3d", {"theme": "dark"}),
    ("rv", {"theme": "dark", "range_": "1m"}),
    ("strikes", {"theme": "dark", "metric": "volume"}),
    ("strikes", {"day": BACKFILLED, "metric": "volume"}),
    ("strikes", {"day": BACKFILLED, "metric": "oi", "band": "50"}),
    ("strikes_one_expiry", {"theme": "dark", "metric": "oi"}),
    ("history", {"theme": "light", "day": BACKFILLED}),
    ("history", {"range_": "1m"}),
    ("position", {"theme": "dark", "rate": ""}),
    ("quality", {"theme": "dark"}),
    ("market", {"day": "2026-11-26"}),  # the holiday: nothing drawn, the empty figure
    ("smile", {"ticker": "AAPL'; --"}),  # refused: the empty figure
)


def as_json(fig: Any) -> dict[str, Any]:
    return json.loads(json.dumps(fig, cls=PlotlyJSONEncoder))  # type: ignore[no-any-return]


def assert_as_plotly_builds(name: str, args: tuple[Any, ...]) -> None:
    """The dict figure is plain JSON types, validates unchanged, and equals the graph-object build of the same
    arguments."""
    built = getattr(figures, name)(*args)
    # what Dash's plotly.io.json.to_json_plotly sends without walking it first (an object raises TypeError)
    orjson.dumps(built, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    sent = as_json(built)
    checked = go.Figure(sent)  # validates every property: an unknown key or a bad value raises here
    assert as_json(checked) == sent, f"{name}: plotly would change what is sent"
    expected = as_json(getattr(figures_plotly, name)(*args))
    for part in ("layout", "data"):
        assert sent[part] == expected[part], f"{name}: the {part} differs from plotly's own build"


@pytest.fixture(scope="module")
def calls(built_home: Settings) -> list[tuple[str, tuple[Any, ...]]]:
    """Every builder call the pages make over the real marts, for each chart's default view and ``VIEWS``
    (answers not cached, so every view builds its figures)."""
    q = Queries.over(SnapshotSource(snapshot_root(built_home), check_seconds=0), answers=0)
    made: list[tuple[str, tuple[Any, ...]]] = []
    with pytest.MonkeyPatch.context() as patch:
        for name in BUILDERS:
            patch.setattr(figures, name, _recorded(name, getattr(figures, name), made))
        for chart in CHARTS.values():
            chart.call(q)
        for chart_name, changes in VIEWS:
            CHARTS[chart_name].call(q, **changes)
    return made


def _recorded(name: str, build: Callable[..., Any], made: list[Any]) -> Callable[..., Any]:
    def record(*args: Any) -> Any:
        made.append((name, args))
        return build(*args)

    return record


def test_the_pages_call_every_builder(calls: list[tuple[str, tuple[Any, ...]]]) -> None:
    assert {name for name, _ in calls} == set(BUILDERS)


@pytest.mark.parametrize("builder", BUILDERS)
def test_each_figure_on_the_marts_is_plotlys_own(
    calls: list[tuple[str, tuple[Any, ...]]], builder: str
) -> None:
    made = [args for name, args in calls if name == builder]
    assert made, f"no page drew {builder}"
    for args in made:
        assert_as_plotly_builds(builder, args)


def bars(days: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A ticker's daily bars over weekdays (with one holiday) and its ATM IV, some values missing."""
    dates = [
        d for d in pd.bdate_range(dt.date(2026, 9, 1), periods=days + 1) if d.date() != dt.date(2026, 9, 7)
    ]
    rng = np.random.default_rng(3)
    close = 100 + np.cumsum(rng.normal(0, 1, len(dates)))
    frame = pd.DataFrame({
        "trade_date": [d.date() for d in dates], "open": close + rng.normal(0, 0.5, len(dates)), "close": close,
        "high": close + 1, "low": close - 1, "volume": rng.integers(1_000, 50_000, len(dates)).astype(float),
        "sma_20": close, "sma_50": np.nan, "sma_200": close * 0.9,
        "bollinger_upper": close + 2, "bollinger_lower": close - 2,
    })  # fmt: skip
    iv = pd.DataFrame(
        {"trade_date": frame["trade_date"], "atm_iv": [0.25 if i % 7 else np.nan for i in range(len(dates))]}
    )
    return frame, iv


@pytest.mark.parametrize("overlays", OVERLAYS, ids=["all", "none", "move"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_market_chart_is_plotlys_own_for_every_overlay(overlays: set[str], theme: str) -> None:
    frame, iv = bars()
    assert_as_plotly_builds("market", (frame, iv, theme, overlays, "T daily"))


GEOMETRIES = {
    "market": (figures.MARKET_AXES, {"rows": 2, "cols": 1, "shared_xaxes": True, "row_heights": [0.76, 0.24],
                                     "vertical_spacing": 0.03}),
    "strikes": (figures.STRIKE_AXES, {"rows": 2, "cols": 1, "shared_xaxes": True, "row_heights": [0.65, 0.35],
                                      "vertical_spacing": 0.06}),
    "max_pain": (figures.MAX_PAIN_AXES, {"rows": 1, "cols": 2, "horizontal_spacing": 0.1}),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_the_subplot_axes_are_make_subplots_geometry(name: str) -> None:
    """Written out to the last digit, so the JSON is plotly's own; a moved domain fails here by name."""
    axes, arguments = GEOMETRIES[name]
    expected = make_subplots(**arguments).layout.to_plotly_json()
    assert axes == {k: v for k, v in expected.items() if k.startswith(("xaxis", "yaxis"))}
