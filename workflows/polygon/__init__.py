"""Polygon (Massive) REST client: the only code in smelt that talks to the market-data API.

``PolygonClient`` fetches pages of raw items with request metadata for the lake; errors are typed
(``errors``), items are checked against per-endpoint models (``models``), requests share one rate
bucket per process, across event loops (``pacing``).
"""

from workflows.polygon.client import ClientStats, PolygonClient
from workflows.polygon.endpoints import Endpoint, parse_page
from workflows.polygon.errors import (
    PolygonAuthError,
    PolygonError,
    PolygonNotFoundError,
    PolygonPaginationError,
    PolygonRateLimitError,
    PolygonRequestError,
    PolygonResponseError,
    PolygonSchemaError,
    PolygonServerError,
    PolygonTimeoutError,
    PolygonTransportError,
)
from workflows.polygon.models import (
    Agg,
    GroupedAgg,
    OptionContract,
    OptionSnapshot,
    Page,
    StockDividend,
    StockSplit,
    TreasuryYield,
)
from workflows.polygon.pacing import Backoff, RateLimiter, SharedBucket, shared_limiter

__all__ = [
    "Agg",
    "Backoff",
    "ClientStats",
    "Endpoint",
    "GroupedAgg",
    "OptionContract",
    "OptionSnapshot",
    "Page",
    "PolygonAuthError",
    "PolygonClient",
    "PolygonError",
    "PolygonNotFoundError",
    "PolygonPaginationError",
    "PolygonRateLimitError",
    "PolygonRequestError",
    "PolygonResponseError",
    "PolygonSchemaError",
    "PolygonServerError",
    "PolygonTimeoutError",
    "PolygonTransportError",
    "RateLimiter",
    "SharedBucket",
    "StockDividend",
    "StockSplit",
    "TreasuryYield",
    "parse_page",
    "shared_limiter",
]
