"""Typed failures of the Polygon client.

Each class says what went wrong in terms an operator can act on, and whether a retry can help
(``retryable``). Every message and repr passes through :func:`workflows.logs.redact`, so a key that
somehow reached a response body (an echoing proxy, a misconfigured simulator) still never prints.
"""

from __future__ import annotations

from workflows.logs import redact


class PolygonError(Exception):
    """Base class: a request to the Polygon API did not give usable data.

    ``endpoint`` is the path template (``/v3/snapshot/options/{underlying}``), never a URL with values
    that could carry a secret; ``attempts`` is how many requests were made before giving up.
    """

    #: Whether the same request may succeed if sent again later.
    RETRYABLE: bool = False

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.message = redact(message)
        self.endpoint = endpoint
        self.status_code = status_code
        self.request_id = request_id
        self.retry_after = retry_after
        self.retryable = type(self).RETRYABLE if retryable is None else retryable
        self.attempts = 1
        super().__init__(self.message)

    def __str__(self) -> str:
        context = []
        if self.endpoint:
            context.append(f"endpoint {self.endpoint}")
        if self.status_code is not None:
            context.append(f"HTTP {self.status_code}")
        if self.request_id:
            context.append(f"request_id {self.request_id}")
        if self.attempts > 1:
            context.append(f"gave up after {self.attempts} attempts")
        suffix = f" ({', '.join(context)})" if context else ""
        return redact(f"{self.message}{suffix}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class PolygonAuthError(PolygonError):
    """401 (the key is missing or wrong) or 403 (the plan lacks this data): retrying cannot help."""


class PolygonNotFoundError(PolygonError):
    """404: the ticker, contract or date does not exist at the API."""


class PolygonRequestError(PolygonError):
    """Another 4xx (bad parameters) or an unexpected redirect: the request itself must change."""


class PolygonRateLimitError(PolygonError):
    """429 still returned after every retry: the plan's request rate is exhausted."""

    RETRYABLE = True


class PolygonServerError(PolygonError):
    """5xx, including the HTML pages a gateway returns (nginx 504): usually passes."""

    RETRYABLE = True


class PolygonTransportError(PolygonError):
    """The network failed (connection refused or reset, TLS, protocol error) before a full response."""

    RETRYABLE = True


class PolygonTimeoutError(PolygonTransportError):
    """No complete response within the client's timeout."""


class PolygonResponseError(PolygonError):
    """A 200 whose body is not usable JSON (truncated, empty, HTML) or reports an error status."""

    RETRYABLE = True


class PolygonSchemaError(PolygonError):
    """A result item does not match its endpoint's model: the API changed or the simulator is wrong.

    Never retried; ``field`` and ``item_index`` point at the offending value in ``results``.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        field: str | None = None,
        item_index: int | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint, status_code=status_code, request_id=request_id)
        self.field = field
        self.item_index = item_index


class PolygonPaginationError(PolygonError):
    """``next_url`` repeats an earlier page (a loop) or points somewhere the key must not go."""
