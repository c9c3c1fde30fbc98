"""The dashboard's pages, in navigation order. Each module has PATH, TITLE, STATE (URL key -> component
property), ``layout(queries, params)`` and ``register(app, queries)``."""

from __future__ import annotations

from types import ModuleType

from dashboard.pages import chain, market, positioning, quality, runs, strategy, volatility

PAGES: tuple[ModuleType, ...] = (market, chain, volatility, positioning, strategy, runs, quality)
