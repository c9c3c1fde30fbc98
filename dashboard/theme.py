"""Light and dark palettes, shared by the stylesheet (CSS variables) and the chart templates.

Chart templates are written out here instead of using plotly's built-in ones: those carry defaults for
every trace type (about 10 kB in each figure's JSON), these carry only what the dashboard's charts use.
"""

from __future__ import annotations

import functools
from typing import Any

THEMES = ("light", "dark")

PALETTES: dict[str, dict[str, str]] = {
    "light": {
        "paper": "#ffffff", "plot": "#ffffff", "text": "#1f2933", "muted": "#52606d", "grid": "#e4e7eb",
        "line": "#9aa5b1", "accent": "#1f5fd1", "up": "#1a7f37", "down": "#c62828",
        "call": "#1f5fd1", "put": "#c2570c", "band": "rgba(31, 95, 209, 0.10)", "move": "rgba(194, 87, 12, 0.12)",
    },
    "dark": {
        "paper": "#161b22", "plot": "#161b22", "text": "#e6edf3", "muted": "#9ba7b4", "grid": "#2d333b",
        "line": "#6e7681", "accent": "#58a6ff", "up": "#3fb950", "down": "#f85149",
        "call": "#58a6ff", "put": "#f0883e", "band": "rgba(88, 166, 255, 0.12)", "move": "rgba(240, 136, 62, 0.15)",
    },
}  # fmt: skip

#: Line colours for several series (expiries, overlays), readable on both backgrounds.
SERIES = ("#1f77b4", "#e8710a", "#2ca02c", "#9467bd", "#d62728", "#8c564b", "#17becf", "#bcbd22")


def palette(theme: str) -> dict[str, str]:
    return PALETTES[theme if theme in PALETTES else "light"]


@functools.cache
def template(theme: str) -> Any:
    """A compact plotly template for ``theme``, built once: validating a template dict on every figure
    was most of a callback's time."""
    import plotly.graph_objects as go

    return go.layout.Template(_template(theme))


@functools.cache
def template_json(theme: str) -> dict[str, Any]:
    """The template as plotly writes it out, for figures written as plain dicts (``dashboard.figures``): one
    dict per theme, shared by every figure and never changed."""
    return template(theme).to_plotly_json()  # type: ignore[no-any-return]


def _template(theme: str) -> dict[str, Any]:
    p = palette(theme)
    axis = {
        "gridcolor": p["grid"], "linecolor": p["line"], "zerolinecolor": p["grid"], "tickcolor": p["line"],
        "title": {"standoff": 8}, "automargin": True,
    }  # fmt: skip
    return {
        "layout": {
            "paper_bgcolor": p["paper"],
            "plot_bgcolor": p["plot"],
            "font": {
                "color": p["text"],
                "family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
                "size": 12,
            },
            "colorway": list(SERIES),
            "xaxis": axis,
            "yaxis": axis,
            "hoverlabel": {"font": {"family": "system-ui, sans-serif"}},
            "legend": {
                "orientation": "h",
                "y": 1.0,
                "yanchor": "bottom",
                "x": 0,
                "xanchor": "left",
                "bgcolor": "rgba(0,0,0,0)",
            },
            "margin": {"l": 56, "r": 24, "t": 72, "b": 40},
            "title": {"x": 0, "xanchor": "left", "y": 0.985, "yanchor": "top", "font": {"size": 14}},
            "colorscale": {"sequential": [[0, "#0d0887"], [0.5, "#cc4778"], [1, "#f0f921"]]},
        }
    }
