"""The async Polygon REST client: endpoints, pagination, Bearer auth, retries, pacing, typed errors.

Every response becomes a :class:`~workflows.polygon.models.Page` of raw items plus request metadata,
because the pipeline writes items verbatim to the lake. Paginated endpoints are async iterators of pages
that follow ``next_url`` (rebased onto the configured base URL when it names the API's own hosts and the
base is elsewhere), re-adding the ``Authorization`` header on every page. The key never goes
into a URL, and only to hosts the client trusts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

import httpx
import orjson
from pydantic import SecretStr
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from workflows.logs import add_secrets, get_logger
from workflows.polygon import endpoints as ep
from workflows.polygon.endpoints import Endpoint, parse_page
from workflows.polygon.errors import (
    PolygonAuthError,
    PolygonError,
    PolygonNotFoundError,
    PolygonPaginationError,
    PolygonRateLimitError,
    PolygonRequestError,
    PolygonResponseError,
    PolygonServerError,
    PolygonTimeoutError,
    PolygonTransportError,
)
from workflows.polygon.models import Page
from workflows.polygon.pacing import Backoff, Pacer, RateLimiter, parse_retry_after
from workflows.polygon.urls import fill, page_key, strip_credentials

if TYPE_CHECKING:
    from workflows.settings import Settings

log = get_logger("smelt.polygon")

#: Hosts that serve the real API; ``next_url`` may point at either since the 2025 rebrand.
API_HOSTS: tuple[str, ...] = ("api.polygon.io", "api.massive.com")
USER_AGENT = "smelt-polygon/0.1"

Sleep = Callable[[float], Awaitable[None]]
Day = dt.date | str


@dataclass
class ClientStats:
    """What one client spent beyond its pages: throttling, waits and bytes, for the step's closing line.

    Requests and retries are not counted here: every :class:`Page` carries its own ``retries``, and the
    step counts requests from the pages of each unit, once.
    """

    throttled: int = 0
    bytes_received: int = 0
    pacing_wait_seconds: float = 0.0
    backoff_seconds: float = 0.0

    def as_dict(self) -> dict[str, int | float]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _day(value: Day) -> str:
    """``YYYY-MM-DD`` from a date or a string in that form (the API rejects anything else)."""
    if isinstance(value, dt.datetime):
        raise TypeError(f"expected a date, not a datetime: {value!r}")
    if isinstance(value, dt.date):
        return value.isoformat()
    if len(value) != 10:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
    return dt.date.fromisoformat(value).isoformat()


def _params(**values: str | int | bool | None) -> dict[str, str]:
    """Query parameters without the unset ones; ``expiration_date_gte`` becomes ``expiration_date.gte``."""
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        key = re.sub(r"_(gte|gt|lte|lt)$", r".\1", name)
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _error_detail(response: httpx.Response) -> tuple[str, str | None]:
    """A short description of an error body (JSON ``error``/``message``, an HTML title) and its request_id."""
    content = response.content
    if not content.strip():
        return "empty body", None
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        title = _TITLE.search(content)
        if title:
            return f"{title.group(1).decode('utf-8', 'replace').strip()} (HTML page)", None
        text = re.sub(r"\s+", " ", content[:200].decode("utf-8", "replace")).strip()
        return f"non-JSON body: {text}", None
    if not isinstance(body, dict):
        return f"unexpected JSON body ({type(body).__name__})", None
    texts = [str(body[k]) for k in ("error", "message") if body.get(k)]
    detail = "; ".join(dict.fromkeys(texts)) or f"status {body.get('status', 'unknown')}"
    request_id = body.get("request_id")
    return detail[:300], request_id if isinstance(request_id, str) else None


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, PolygonError) and exc.retryable


class PolygonClient:
    """Async client for the Polygon (Massive) REST API; use as ``async with PolygonClient(...) as c``.

    ``headers`` are sent on every request, ``next_url`` pages included (the simulator's ``X-Sim-Now``);
    ``extra_headers`` may be changed between calls. ``transport`` replaces the network (a mock, or
    ``httpx.ASGITransport`` around the simulator). ``sleep`` is the backoff sleep, injectable for tests.
    ``trusted_hosts`` extends the hosts a ``next_url`` may carry the key to (the base URL's host and the
    API's hosts always are). Counters are in :attr:`stats`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr | None,
        *,
        rate_per_minute: int | None = None,
        max_concurrency: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30,
        max_attempts: int = 6,
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff | None = None,
        limiter: RateLimiter | None = None,
        trusted_hosts: Iterable[str] = (),
        max_pages: int = 10_000,
    ) -> None:
        secret = api_key.get_secret_value() if isinstance(api_key, SecretStr) else (api_key or "")
        secret = secret.strip()
        if secret:
            add_secrets([secret])
        self._api_key = SecretStr(secret) if secret else None
        base = httpx.URL(strip_credentials(base_url.rstrip("/")))
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"base_url must be an http(s) URL with a host, got {str(base)!r}")
        if base.query:
            raise ValueError("base_url must not carry a query; auth goes in the Authorization header")
        self.base_url = str(base)
        self._base = base
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.extra_headers: dict[str, str] = dict(headers or {})
        if any(name.lower() == "authorization" for name in self.extra_headers):
            raise ValueError("pass the key as api_key; an Authorization header in headers is not allowed")
        self.rate_per_minute = rate_per_minute
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.max_pages = max_pages
        self.trusted_hosts = frozenset({base.host, *API_HOSTS, *trusted_hosts})
        self.stats = ClientStats()
        self._pacer = Pacer(rate_per_minute, max_concurrency, limiter)
        self._sleep = sleep
        self._backoff = backoff or Backoff()
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> PolygonClient:
        """A client for the configured source: base URL, key, the plan's rate and concurrency.

        ``overrides`` replace any constructor argument (``base_url``, ``api_key``, ``sleep``, ...).
        """
        add_secrets(settings.secrets())
        options: dict[str, Any] = {
            "base_url": settings.polygon.base_url,
            "api_key": settings.polygon.api_key,
            "rate_per_minute": settings.rate_per_minute,
            "max_concurrency": settings.polygon.max_concurrency,
            "transport": transport,
            "headers": headers,
            **overrides,
        }
        return cls(**options)

    def __repr__(self) -> str:
        auth = "bearer" if self._api_key else "none"
        return (
            f"PolygonClient(base_url={self.base_url!r}, auth={auth!r}, "
            f"rate_per_minute={self.rate_per_minute!r}, max_concurrency={self._pacer.max_concurrency})"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- stocks ---------------------------------------------------------------------------------------

    def grouped_daily(
        self, date: Day, *, adjusted: bool = False, include_otc: bool | None = None
    ) -> AsyncIterator[Page]:
        """Every US stock's bar for one day, unadjusted by default (splits are applied in dbt).

        One request and one page in practice; an async iterator like every list endpoint.
        """
        path = fill(ep.GROUPED_DAILY.template, date=_day(date))
        return self._paginate(ep.GROUPED_DAILY, path, _params(adjusted=adjusted, include_otc=include_otc))

    def aggregates(
        self,
        ticker: str,
        start: Day | int,
        end: Day | int,
        *,
        adjusted: bool = False,
        sort: Literal["asc", "desc"] = "asc",
        limit: int = 50_000,
    ) -> AsyncIterator[Page]:
        """Daily bars of one stock or option ticker (``O:AAPL230616C00150000``) over a date range.

        ``start``/``end`` are dates or ms timestamps; one request covers the whole range (pages if long).
        """
        parts = {"ticker": ticker, "from": _bound(start), "to": _bound(end)}
        path = fill(ep.AGGREGATES.template, **parts)
        return self._paginate(ep.AGGREGATES, path, _params(adjusted=adjusted, sort=sort, limit=limit))

    def splits(
        self,
        ticker: str | None = None,
        *,
        execution_date_gte: Day | None = None,
        execution_date_lte: Day | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[Page]:
        """Stock split events (``/v3/reference/splits``), for adjusting prices downstream."""
        params = _params(
            ticker=ticker,
            execution_date_gte=_opt_day(execution_date_gte),
            execution_date_lte=_opt_day(execution_date_lte),
            limit=limit,
        )
        return self._paginate(ep.STOCK_SPLITS, ep.STOCK_SPLITS.template, params)

    def dividends(
        self,
        ticker: str | None = None,
        *,
        ex_dividend_date_gte: Day | None = None,
        ex_dividend_date_lte: Day | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[Page]:
        """Cash dividends (``/v3/reference/dividends``), for the dividend yield the option models price with."""
        params = _params(
            ticker=ticker,
            ex_dividend_date_gte=_opt_day(ex_dividend_date_gte),
            ex_dividend_date_lte=_opt_day(ex_dividend_date_lte),
            limit=limit,
        )
        return self._paginate(ep.STOCK_DIVIDENDS, ep.STOCK_DIVIDENDS.template, params)

    def treasury_yields(
        self,
        *,
        date: Day | None = None,
        date_gte: Day | None = None,
        date_lte: Day | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[Page]:
        """US Treasury par yields by maturity (``/fed/v1/treasury-yields``), the risk-free curve."""
        params = _params(
            date=_opt_day(date), date_gte=_opt_day(date_gte), date_lte=_opt_day(date_lte), limit=limit
        )
        return self._paginate(ep.TREASURY_YIELDS, ep.TREASURY_YIELDS.template, params)

    # --- options --------------------------------------------------------------------------------------

    def option_contracts(
        self,
        underlying_ticker: str | None = None,
        *,
        as_of: Day | None = None,
        expired: bool | None = None,
        expiration_date_gte: Day | None = None,
        expiration_date_lte: Day | None = None,
        contract_type: Literal["call", "put"] | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[Page]:
        """Contract reference data as of a day (``expired=True`` for contracts that have since expired)."""
        params = _params(
            underlying_ticker=underlying_ticker,
            contract_type=contract_type,
            as_of=_opt_day(as_of),
            expired=expired,
            expiration_date_gte=_opt_day(expiration_date_gte),
            expiration_date_lte=_opt_day(expiration_date_lte),
            limit=limit,
        )
        return self._paginate(ep.OPTION_CONTRACTS, ep.OPTION_CONTRACTS.template, params)

    def option_chain_snapshot(
        self,
        underlying: str,
        *,
        expiration_date_gte: Day | None = None,
        expiration_date_lte: Day | None = None,
        contract_type: Literal["call", "put"] | None = None,
        limit: int = 250,
    ) -> AsyncIterator[Page]:
        """Every contract of an underlying now: day bar, greeks, IV, open interest (250 a page)."""
        params = _params(
            contract_type=contract_type,
            expiration_date_gte=_opt_day(expiration_date_gte),
            expiration_date_lte=_opt_day(expiration_date_lte),
            limit=limit,
        )
        path = fill(ep.OPTION_CHAIN.template, underlying=underlying)
        return self._paginate(ep.OPTION_CHAIN, path, params)

    # --- machinery ------------------------------------------------------------------------------------

    async def _paginate(
        self, endpoint: Endpoint, path: str, params: Mapping[str, str]
    ) -> AsyncIterator[Page]:
        url = self.base_url + path
        query: Mapping[str, str] | None = params
        seen = {page_key(str(httpx.URL(url, params=dict(params))))}
        cursors: set[str] = set()
        for number in itertools.count(1):
            page = await self._fetch(endpoint, url, query)
            yield page
            if page.next_url is None:
                return
            if number >= self.max_pages:
                raise PolygonPaginationError(
                    f"more than {self.max_pages} pages; stopping (raise max_pages if this is expected)",
                    endpoint=endpoint.template,
                    request_id=page.request_id,
                )
            url = self._next(endpoint, page, seen, cursors, number)
            query = None

    def _next(self, endpoint: Endpoint, page: Page, seen: set[Any], cursors: set[str], number: int) -> str:
        """The URL of the next page, after checking it is new and may receive the key."""
        assert page.next_url is not None
        target = self._rebase(httpx.URL(page.url).join(page.next_url))
        cursor = target.params.get("cursor")
        key = page_key(str(target))
        if key in seen or (cursor is not None and cursor in cursors):
            shown = f"cursor {cursor[:40]!r}" if cursor else f"path {target.path!r}"
            raise PolygonPaginationError(
                f"next_url repeats an earlier page ({shown}) after {number} page(s): the API is looping; "
                "stopped instead of fetching forever",
                endpoint=endpoint.template,
                request_id=page.request_id,
            )
        seen.add(key)
        if cursor is not None:
            cursors.add(cursor)
        if target.scheme not in ("http", "https"):
            raise PolygonPaginationError(
                f"next_url has scheme {target.scheme!r}",
                endpoint=endpoint.template,
                request_id=page.request_id,
            )
        if self._api_key is not None and not self._may_receive_key(target):
            raise PolygonPaginationError(
                f"next_url points at {target.scheme}://{target.host}, which is not a trusted API host "
                f"({', '.join(sorted(self.trusted_hosts))}); refusing to send the API key there. "
                "Pass trusted_hosts=[...] if this host is expected",
                endpoint=endpoint.template,
                request_id=page.request_id,
            )
        return str(target)

    def _rebase(self, target: httpx.URL) -> httpx.URL:
        """A ``next_url`` on the API's own hosts, moved onto a configured non-default base URL.

        Polygon names its own host in ``next_url`` whatever address the request went to. Behind an egress
        proxy, a mirror, a recorded-response server or the served simulator, that host may be unreachable,
        and the key must not leave for a host the user did not configure: keep the path and query, take the
        configured scheme, host and path prefix.
        """
        if target.host not in API_HOSTS or self._base.host in API_HOSTS:
            return target
        prefix = self._base.raw_path.split(b"?", 1)[0].rstrip(b"/")
        rebased = self._base.copy_with(raw_path=prefix + target.raw_path)
        log.debug("polygon.next_url_rebased", host=target.host, onto=self._base.host, path=rebased.path)
        return rebased

    def _may_receive_key(self, url: httpx.URL) -> bool:
        if url.host not in self.trusted_hosts:
            return False
        plain_ok = url.host == self._base.host and self._base.scheme == "http"
        return url.scheme == "https" or plain_ok

    def _request_headers(self) -> httpx.Headers:
        headers = httpx.Headers(self.extra_headers)
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.get_secret_value()}"
        elif "authorization" in headers:
            del headers["authorization"]
        return headers

    async def _fetch(self, endpoint: Endpoint, url: str, params: Mapping[str, str] | None) -> Page:
        """One page, retried on transient failures; a final failure carries the attempt count."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(self._should_retry),
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        attempt_number = 0
        try:
            async for attempt in retrying:
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number
                    page = await self._attempt(endpoint, url, params)
                    return replace(page, retries=attempt_number - 1) if attempt_number > 1 else page
        except PolygonError as exc:
            exc.attempts = attempt_number
            raise
        raise AssertionError("unreachable: tenacity returns a result or raises")

    def _should_retry(self, exc: BaseException) -> bool:
        """Retry transient failures, unless the server asked for a longer wait than the backoff's cap."""
        return _is_retryable(exc) and not (
            isinstance(exc, PolygonError) and self._backoff.exceeds_cap(exc.retry_after)
        )

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = exc.retry_after if isinstance(exc, PolygonError) else None
        delay = self._backoff.delay(state.attempt_number, retry_after)
        if retry_after is None and isinstance(exc, PolygonRateLimitError) and self.rate_per_minute:
            delay = max(delay, 60 / self.rate_per_minute)  # at least one token of the plan's bucket
        return delay

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.stats.backoff_seconds += state.upcoming_sleep
        log.warning(
            "polygon.retry",
            endpoint=getattr(exc, "endpoint", None),
            attempt=state.attempt_number,
            max_attempts=self.max_attempts,
            wait_s=round(state.upcoming_sleep, 3),
            error_type=type(exc).__name__,
            error=str(exc),
        )

    async def _attempt(self, endpoint: Endpoint, url: str, params: Mapping[str, str] | None) -> Page:
        headers = self._request_headers()
        async with self._pacer.slot() as waited:
            self.stats.pacing_wait_seconds += waited
            try:
                response = await self._http.get(url, params=params, headers=headers)
            except httpx.TimeoutException as exc:
                raise PolygonTimeoutError(
                    f"no response within {self.timeout:g}s ({type(exc).__name__})", endpoint=endpoint.template
                ) from exc
            except httpx.DecodingError as exc:  # a cut gzip stream: the body, not the network, is broken
                raise PolygonResponseError(
                    f"the response body could not be decoded ({exc})", endpoint=endpoint.template
                ) from exc
            except httpx.RequestError as exc:  # connection refused/reset, TLS, protocol errors
                raise PolygonTransportError(
                    f"network error: {type(exc).__name__}: {exc}", endpoint=endpoint.template
                ) from exc
        content = response.content
        self.stats.bytes_received += len(content)
        request_url = strip_credentials(str(response.request.url))
        header_request_id = response.headers.get("x-request-id")
        log.debug(
            "polygon.response",
            endpoint=endpoint.template,
            url=request_url,
            status=response.status_code,
            bytes=len(content),
            request_id=header_request_id,
        )
        if not 200 <= response.status_code < 300:
            raise self._http_error(endpoint, response, header_request_id)
        page = parse_page(
            endpoint,
            content,
            url=request_url,
            status_code=response.status_code,
            header_request_id=header_request_id,
        )
        return page

    def _http_error(
        self, endpoint: Endpoint, response: httpx.Response, header_request_id: str | None
    ) -> PolygonError:
        """The typed error for a non-2xx answer, with a message that says what to do."""
        status = response.status_code
        detail, body_request_id = _error_detail(response)
        where = endpoint.template
        context: dict[str, Any] = {
            "endpoint": where,
            "status_code": status,
            "request_id": body_request_id or header_request_id,
        }
        if status == 401:
            if self._api_key is None:
                return PolygonAuthError(
                    f"Polygon refused the request: no API key was sent ({detail}); set POLYGON_API_KEY",
                    **context,
                )
            return PolygonAuthError(
                f"Polygon rejected the API key ({detail}); check POLYGON_API_KEY: it must be a valid, active key",
                **context,
            )
        if status == 403:
            return PolygonAuthError(
                f"the Polygon plan is not entitled to {where} or to the data requested ({detail}); "
                "upgrade the plan, or reduce the request (a shorter history, fewer tickers, delayed data)",
                **context,
            )
        if status == 404:
            return PolygonNotFoundError(f"not found: {detail}", **context)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        too_long = ""
        if self._backoff.exceeds_cap(retry_after):
            too_long = (
                f"; the server asked to wait {retry_after:g} s (Retry-After), more than the "
                f"{self._backoff.retry_after_cap:g} s cap: not retrying, re-run the step later"
            )
        if status == 429:
            self.stats.throttled += 1
            return PolygonRateLimitError(
                f"rate limit exceeded ({detail}){too_long}; lower POLYGON_RATE_PER_MINUTE to the plan's "
                "rate, or upgrade the plan",
                retry_after=retry_after,
                **context,
            )
        if status == 408:
            return PolygonTimeoutError(f"the server timed out the request ({detail})", **context)
        if status >= 500:
            return PolygonServerError(f"server error: {detail}{too_long}", retry_after=retry_after, **context)
        if 300 <= status < 400:
            location = httpx.URL(response.headers.get("location", ""))
            return PolygonRequestError(
                f"unexpected redirect to {location.host}{location.path}; set POLYGON_BASE_URL to the API's "
                "current address",
                **context,
            )
        return PolygonRequestError(f"request rejected: {detail}", **context)


def _bound(value: Day | int) -> str | int:
    return value if isinstance(value, int) else _day(value)


def _opt_day(value: Day | None) -> str | None:
    return None if value is None else _day(value)
