"""Figures built as plain dicts (``figures._unchecked``) are exactly what plotly's validated graph objects
would send: every property valid as written, and the subplot geometry make_subplots would lay out."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots
from plotly.utils import PlotlyJSONEncoder

from dashboard import figures

OVERLAYS = ({"sma20", "sma50", "sma200", "bollinger", "move"}, set(), {"move"})


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


def as_json(fig: go.Figure) -> dict[str, object]:
    return json.loads(json.dumps(fig, cls=PlotlyJSONEncoder))  # type: ignore[no-any-return]


@pytest.mark.parametrize("overlays", OVERLAYS, ids=["all", "none", "move"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_market_chart_is_valid_plotly_as_built(overlays: set[str], theme: str) -> None:
    frame, iv = bars()
    sent = as_json(figures.market(frame, iv, theme, overlays, "T daily"))
    checked = go.Figure(sent)  # validates every property: an unknown key or a bad value raises here
    assert as_json(checked) == sent  # and nothing had to be coerced
    assert sent["data"][-1]["type"] == "bar" and sent["data"][-1]["yaxis"] == "y2"  # type: ignore[index]


def test_the_market_chart_axes_are_make_subplots_geometry() -> None:
    laid_out = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.76, 0.24], vertical_spacing=0.03
    )
    expected = laid_out.layout.to_plotly_json()
    assert set(figures.MARKET_AXES) == {k for k in expected if k.startswith(("xaxis", "yaxis"))}
    for name, axis in figures.MARKET_AXES.items():
        plotly_axis = expected[name]
        assert set(axis) == set(plotly_axis), name
        for key, value in axis.items():
            assert value == pytest.approx(plotly_axis[key]), (name, key)
