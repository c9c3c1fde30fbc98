"""What the pages share: reading ticker and day from the URL, the ticker -> days -> expiries chain of
controls, and the guard that turns refused inputs and warehouse failures into messages."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

from dash import Dash, Input, Output, State, html, no_update

from dashboard import inputs
from dashboard.inputs import InputError
from dashboard.layout import control, day_options, dropdown, not_drawn, notice
from dashboard.marts import NoSnapshotError, SourceUnavailableError
from dashboard.queries import Queries
from dashboard.theme import THEMES
from workflows import calendar, logs

log = logs.get_logger("smelt.dashboard")

#: How far back a history chart reaches, by the range control's value.
RANGES: dict[str, int] = {"1m": 31, "3m": 92, "6m": 183, "1y": 366, "2y": 731, "5y": 1827}
RANGE_LABELS = {
    "1m": "1 month",
    "3m": "3 months",
    "6m": "6 months",
    "1y": "1 year",
    "2y": "2 years",
    "5y": "5 years",
}


def guarded(
    count: int = 1, grid: bool = False, extra: tuple[Any, ...] = ()
) -> Callable[[Callable[..., tuple[Any, ...]]], Callable[..., tuple[Any, ...]]]:
    """Wrap a chart callback: a refused input or a failing warehouse becomes a message in its outputs.

    ``count`` is the number of output groups (four outputs each: see ``layout.chart_outputs``) the callback
    fills; ``grid`` when the first output of each group is a grid's rows rather than a figure; ``extra``: the
    blank values of any outputs after the groups. The first argument is the ``Queries``; the theme is the
    last and is validated here for every callback. Answers are cached per snapshot version (only answers:
    a refused input or a failure is computed again).
    """

    def wrap(fn: Callable[..., tuple[Any, ...]]) -> Callable[..., tuple[Any, ...]]:
        @functools.wraps(fn)
        def inner(*args: Any) -> tuple[Any, ...]:
            theme = args[-1] if args and args[-1] in THEMES else "light"

            def failed(message: str, kind: str) -> tuple[Any, ...]:
                blank = not_drawn(message, theme, kind)
                return (([], *blank[1:]) if grid else blank) * count + extra

            try:
                inputs.choice(args[-1] if args else None, THEMES, "theme")
                q, rest = args[0], args[1:]
                return q.answer(fn.__qualname__, rest, lambda: fn(*args))  # type: ignore[no-any-return]
            except InputError as exc:
                return failed(str(exc), "refused")
            except (NoSnapshotError, SourceUnavailableError) as exc:
                return failed(str(exc), "error")
            except Exception as exc:
                log.exception("callback failed", callback=fn.__name__)
                return failed(f"the warehouse could not answer ({type(exc).__name__}); the server log has the details",
                              "error")  # fmt: skip

        return inner

    return wrap


def initial(
    q: Queries, params: Mapping[str, str], kind: str = "option"
) -> tuple[str, dt.date | None, list[Any]]:
    """Ticker and day for a page's first render: the URL's if valid, else defaults, with notices."""
    notes: list[Any] = []
    tickers = q.underlyings()
    ticker = tickers[0] if tickers else ""
    if "SPY" in tickers:
        ticker = "SPY"
    if "ticker" in params:
        try:
            ticker = inputs.ticker(params["ticker"], tickers)
        except InputError as exc:
            notes.append(notice(f"{exc}; showing {ticker}", "refused"))
    days = days_for(q, ticker, kind)
    day = days[0] if days else None
    if "date" in params:
        try:
            day = inputs.day(params["date"])
        except InputError as exc:
            notes.append(notice(f"{exc}; showing {day}", "refused"))
    return ticker, day, notes


def days_for(q: Queries, ticker: str, kind: str) -> tuple[dt.date, ...]:
    if not ticker:
        return ()
    return q.stock_days(ticker) if kind == "stock" else q.option_days(ticker)


def ticker_day_controls(q: Queries, prefix: str, ticker: str, day: dt.date | None, kind: str) -> list[Any]:
    days = days_for(q, ticker, kind)
    return [
        control("Ticker", f"{prefix}-ticker", dropdown(f"{prefix}-ticker", q.underlyings(), ticker or None)),
        control("Trading day", f"{prefix}-date",
                dropdown(f"{prefix}-date", day_options(days, day), day.isoformat() if day else None)),
    ]  # fmt: skip


def register_days(app: Dash, q: Queries, prefix: str, kind: str = "option") -> None:
    """Ticker -> the days it has data for; the chosen day is kept when the new ticker has it."""

    @app.callback(
        Output(f"{prefix}-date", "options"),
        Output(f"{prefix}-date", "value"),
        Input(f"{prefix}-ticker", "value"),
        State(f"{prefix}-date", "value"),
        prevent_initial_call=True,
    )
    def _days(ticker: Any, current: Any) -> tuple[Any, Any]:
        return day_choices(q, ticker, current, kind)


def day_choices(q: Queries, ticker: Any, current: Any, kind: str) -> tuple[Any, Any]:
    try:
        ticker = inputs.ticker(ticker, q.underlyings())
    except InputError:
        return no_update, no_update
    days = days_for(q, ticker, kind)
    try:
        keep = inputs.day(current)
    except InputError:
        keep = None
    value = keep if keep in days else (days[0] if days else None)
    return day_options(days), value.isoformat() if value else None


def expiry_options(q: Queries, ticker: str, day: dt.date, max_dte: int | None = None) -> list[dict[str, str]]:
    frame = q.expiries(ticker, day)
    return [
        {"label": f"{str(e)[:10]} ({int(d)}d)", "value": str(e)[:10]}
        for e, d in zip(frame["expiration_date"], frame["days_to_expiry"], strict=True)
        if max_dte is None or int(d) <= max_dte
    ]


def default_expiry(options: list[dict[str, str]], target_days: int = 30) -> str | None:
    """The listed expiry nearest ``target_days`` out (a monthly, usually)."""
    if not options:
        return None

    def distance(option: dict[str, str]) -> int:
        days = int(option["label"].rsplit("(", 1)[1].rstrip("d)"))
        return abs(days - target_days)

    return min(options, key=distance)["value"]


def short_history(q: Queries, ticker: str, end: dt.date, needs: Mapping[str, int]) -> str:
    """Why windowed series (moving averages, realized volatility) are empty on ``end``: each needs a number of
    daily closes that the marts do not hold yet, and which earlier run would bring them."""
    held = sum(1 for d in q.stock_days(ticker) if d <= end)
    names, counts = " and ".join(needs), " and ".join(str(n) for n in needs.values())
    start = calendar.previous_trading_days(end, max(needs.values()))[0]
    return (
        f"{names} not drawn: {'they need' if len(needs) > 1 else 'it needs'} {counts} daily closes, the marts "
        f"hold {held} for {ticker} up to {end} (earlier days: smelt run --start {start})"
    )


def page_error(exc: Exception) -> html.Div:
    kind = "error" if isinstance(exc, NoSnapshotError | SourceUnavailableError) else "refused"
    return html.Div(notice(str(exc), kind), className="page-error")
