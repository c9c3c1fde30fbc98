"""Every question the dashboard asks the marts, as SQL with bound parameters only.

Rules this module keeps:
* values are always bound (``?``); table names come from :meth:`MartsSource.table` (the published marts) and
  the few column names that vary come from the fixed maps below, never from input;
* aggregation happens in the warehouse and a query returns only what a chart draws;
* results are cached per process, keyed by the source's version, the SQL and the parameters, and the cache
  is cleared when a new snapshot is published; so are the callbacks' answers (``answers``, filled by
  ``pages.common.guarded``), because building a figure costs more than a cached query;
* the SQL is portable between DuckDB and Snowflake (``min_by``, ``qualify`` and plain windows only); a bound
  float is cast (``CAST(? AS DOUBLE)``) where arithmetic or a comparison meets it, since a binding's type is
  the driver's guess (the emulator passes a REAL binding on as text).

Callers validate inputs first (``dashboard.inputs``); the functions here take canonical Python values.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from dashboard.freshness import FreshnessSla, Verdict
from dashboard.marts import Handle, MartsSource
from workflows.run_reports import RECENT_RUNS

#: Split-adjusted or as-traded bars: the only column names that depend on a control.
PRICE_COLUMNS: dict[bool, dict[str, str]] = {
    True: {
        "open": "open_adj",
        "high": "high_adj",
        "low": "low_adj",
        "close": "close_adj",
        "volume": "volume_adj",
    },
    False: {"open": "open", "high": "high", "low": "low", "close": "close", "volume": "volume"},
}
#: Greeks and quotes shown per side of the chain.
CHAIN_FIELDS = (
    "option_ticker", "bid", "ask", "midpoint", "close", "volume", "open_interest",
    "implied_volatility", "delta", "gamma", "theta", "vega", "computed_status",
)  # fmt: skip
#: Width of a moneyness bin of the IV heatmap, in log-moneyness.
SURFACE_BIN = 0.025
#: History read before a chart's first day so that the Bollinger bands' 20-day window is full on that day.
WARMUP_DAYS = 40


class Cache:
    """A small LRU keyed by (version, ...); thread-safe; cleared when the version changes."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._data: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._version: str | None = None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            if key[0] != self._version:
                self._data.clear()
                self._version = key[0]
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return found

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        if self.entries <= 0:
            return
        with self._lock:
            if key[0] != self._version:
                return  # a newer version was published while this query ran
            self._data[key] = value
            while len(self._data) > self.entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class Queries:
    """The query catalogue over one source; results are read-only DataFrames (never mutate them)."""

    source: MartsSource
    cache: Cache
    #: Callback outputs by (version, callback, arguments): a repeated view is not drawn again; also values
    #: derived from a query that every layout asks for (``underlyings``).
    answers: Cache
    #: When the marts are late (the quality page, /readyz); create_app sets it from the settings.
    sla: FreshnessSla = field(default_factory=FreshnessSla)

    @classmethod
    def over(cls, source: MartsSource, entries: int = 512, answers: int | None = None) -> Queries:
        """``answers`` defaults to ``entries`` (0 turns both caches off)."""
        return cls(source, Cache(entries), Cache(entries if answers is None else answers))

    # -- plumbing ----------------------------------------------------------------------------------

    def version(self) -> str:
        return self.source.handle().version

    def answer(
        self, name: str, args: tuple[Any, ...], compute: Callable[[], tuple[Any, ...]]
    ) -> tuple[Any, ...]:
        """``compute()`` once per (version, name, args); arguments that cannot be a key are not cached."""
        try:
            key = (self.version(), name, _frozen(args))
            hash(key)
        except TypeError:
            return compute()
        found = self.answers.get(key)
        if found is None:
            found = compute()
            self.answers.put(key, found)
        return found  # type: ignore[no-any-return]

    def build(self) -> dict[str, Any]:
        return self.source.build(self.source.handle())

    def _t(self, name: str) -> str:
        return self.source.table(name)

    def _run(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        handle: Handle = self.source.handle()
        key = (handle.version, sql, tuple(params))
        found = self.cache.get(key)
        if found is not None:
            return found
        result = self.source.run(handle, sql, params)
        self.cache.put(key, result)
        return result

    # -- lists that the controls offer (and that validation checks against) ----------------------------

    def underlyings(self) -> tuple[str, ...]:
        """Kept as a tuple per build version: every page layout asks for it twice (the picker, the URL's
        check), and iterating the query's Arrow-backed column again cost 7 ms a call for the whole market's
        5,000 underlyings, three quarters of a page layout's time."""

        def listed() -> tuple[str, ...]:
            sql = f"SELECT DISTINCT underlying FROM {self._t('mart_options_positioning')} ORDER BY underlying"
            return tuple(self._run(sql)["underlying"].tolist())

        return self.answer("underlyings", (), listed)

    def option_days(self, underlying: str) -> tuple[dt.date, ...]:
        """Trading days with option data for ``underlying``, newest first."""
        df = self._run(
            f"SELECT DISTINCT trade_date FROM {self._t('mart_options_positioning')} "
            "WHERE underlying = ? ORDER BY trade_date DESC",
            [underlying],
        )
        return tuple(_as_date(d) for d in df["trade_date"])

    def stock_days(self, ticker: str) -> tuple[dt.date, ...]:
        df = self._run(
            f"SELECT trade_date FROM {self._t('mart_stock_daily')} WHERE ticker = ? ORDER BY trade_date DESC",
            [ticker],
        )
        return tuple(_as_date(d) for d in df["trade_date"])

    def expiries(self, underlying: str, day: dt.date) -> pd.DataFrame:
        """Expiries listed on ``day``: expiration_date, days_to_expiry, contracts."""
        return self._run(
            "SELECT expiration_date, min(days_to_expiry) AS days_to_expiry, count(*) AS contracts "
            f"FROM {self._t('mart_option_chain')} WHERE underlying = ? AND trade_date = ? "
            "GROUP BY expiration_date ORDER BY expiration_date",
            [underlying, day],
        )

    # -- /market -------------------------------------------------------------------------------------

    def stock_history(self, ticker: str, start: dt.date, end: dt.date, adjusted: bool) -> pd.DataFrame:
        """Daily bars with the mart's SMA 20/50/200 and 20-day Bollinger bands, in the shown price series.

        The averages are dbt's (on split-adjusted closes); as-traded prices divide them by the day's split
        factor, so a split never bends them. Only the bands' deviation is windowed here, over adjusted closes.
        """
        c = PRICE_COLUMNS[adjusted]
        scale = "" if adjusted else " / split_adjustment_factor"
        window = "OVER (ORDER BY trade_date ROWS BETWEEN 19 PRECEDING AND CURRENT ROW)"
        sql = f"""
            WITH bars AS (
                SELECT *, CASE WHEN count(close_adj) {window} = 20 THEN stddev_samp(close_adj) {window} END AS sd_20
                FROM {self._t("mart_stock_daily")}
                WHERE ticker = ? AND trade_date BETWEEN ? AND ?
            )
            SELECT trade_date, {c["open"]} AS open, {c["high"]} AS high, {c["low"]} AS low, {c["close"]} AS close,
                   {c["volume"]} AS volume, split_adjustment_factor, sma_20{scale} AS sma_20,
                   sma_50{scale} AS sma_50, sma_200{scale} AS sma_200,
                   (sma_20 + 2 * sd_20){scale} AS bollinger_upper, (sma_20 - 2 * sd_20){scale} AS bollinger_lower,
                   source
            FROM bars WHERE trade_date >= ? ORDER BY trade_date
        """  # fmt: skip
        return self._run(sql, [ticker, start - dt.timedelta(days=WARMUP_DAYS), end, start])

    def atm_iv_history(self, underlying: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Per day, dbt's 30-day at-the-money IV (interpolated between the expiries either side of 30 days)."""
        sql = f"""
            SELECT trade_date, atm_implied_volatility_30d AS atm_iv, source
            FROM {self._t("mart_options_iv_rank")}
            WHERE underlying = ? AND trade_date BETWEEN ? AND ?
            ORDER BY trade_date
        """
        return self._run(sql, [underlying, start, end])

    # -- /chain --------------------------------------------------------------------------------------

    def chain(
        self, underlying: str, day: dt.date, expiry: dt.date, max_log_moneyness: float | None
    ) -> pd.DataFrame:
        """Calls | strike | puts: one row per strike, ``call_*`` and ``put_*`` columns, ``is_atm`` marked."""
        sides = ", ".join(
            f"max(CASE WHEN contract_type = '{side}' THEN {f} END) AS {side}_{f}"
            for side in ("call", "put")
            for f in CHAIN_FIELDS
        )
        where = "" if max_log_moneyness is None else " AND abs(log_moneyness) <= CAST(? AS DOUBLE)"
        params: list[Any] = [underlying, day, expiry] + (
            [] if max_log_moneyness is None else [max_log_moneyness]
        )
        sql = f"""
            WITH strikes AS (
                SELECT strike_price, max(underlying_price) AS underlying_price, max(days_to_expiry) AS days_to_expiry,
                       {sides}, max(source) AS source
                FROM {self._t("mart_option_chain")}
                WHERE underlying = ? AND trade_date = ? AND expiration_date = ?{where}
                GROUP BY strike_price
            )
            SELECT *, abs(strike_price - underlying_price)
                      = min(abs(strike_price - underlying_price)) OVER () AS is_atm
            FROM strikes ORDER BY strike_price
        """  # fmt: skip
        return self._run(sql, params)

    def contracts(self, underlying: str, day: dt.date, expiry: dt.date) -> pd.DataFrame:
        """One row per contract of one expiry, for picking strategy legs."""
        sql = f"""
            SELECT option_ticker, contract_type, strike_price, expiration_date, days_to_expiry, bid, ask,
                   midpoint, option_price, implied_volatility, delta, gamma, theta, vega, open_interest,
                   underlying_price, shares_per_contract, source
            FROM {self._t("mart_option_chain")}
            WHERE underlying = ? AND trade_date = ? AND expiration_date = ?
            ORDER BY strike_price, contract_type
        """
        return self._run(sql, [underlying, day, expiry])

    def legs(self, underlying: str, day: dt.date, options: Sequence[str]) -> pd.DataFrame:
        """The named contracts on ``day`` (one placeholder per validated symbol)."""
        if not options:
            return pd.DataFrame()
        marks = ", ".join("?" for _ in options)
        sql = f"""
            SELECT option_ticker, contract_type, strike_price, expiration_date, days_to_expiry, years_to_expiry,
                   option_price, implied_volatility, delta, gamma, theta, vega, underlying_price,
                   shares_per_contract, exercise_model, risk_free_rate, dividend_yield, source
            FROM {self._t("mart_option_chain")}
            WHERE underlying = ? AND trade_date = ? AND option_ticker IN ({marks})
            ORDER BY expiration_date, strike_price, contract_type
        """
        return self._run(sql, [underlying, day, *options])

    def provenance(self, underlying: str, day: dt.date, option: str) -> pd.DataFrame:
        """One contract-day's chain of custody (mart_option_provenance) beside what its Greeks were solved from."""
        sql = f"""
            SELECT p.*, c.option_price, c.option_price_basis, c.underlying_price, c.strike_price,
                   c.years_to_expiry, c.exercise_model, c.risk_free_rate, c.dividend_yield, c.greeks_source,
                   c.implied_volatility, c.computed_implied_volatility, c.computed_status
            FROM {self._t("mart_option_provenance")} AS p
            LEFT JOIN {self._t("mart_option_chain")} AS c
                ON c.underlying = p.underlying AND c.trade_date = p.trade_date AND c.option_ticker = p.option_ticker
            WHERE p.underlying = ? AND p.trade_date = ? AND p.option_ticker = ?
        """  # fmt: skip
        return self._run(sql, [underlying, day, option])

    # -- /volatility ---------------------------------------------------------------------------------

    def smiles(self, underlying: str, day: dt.date, expiries: Sequence[dt.date]) -> pd.DataFrame:
        if not expiries:
            return pd.DataFrame()
        marks = ", ".join("?" for _ in expiries)
        sql = f"""
            SELECT expiration_date, days_to_expiry, strike_price, moneyness, log_moneyness, implied_volatility,
                   implied_volatility_contract_type, underlying_price, source
            FROM {self._t("mart_vol_surface")}
            WHERE underlying = ? AND trade_date = ? AND expiration_date IN ({marks})
              AND implied_volatility IS NOT NULL
            ORDER BY expiration_date, strike_price
        """
        return self._run(sql, [underlying, day, *expiries])

    def term_structure(self, underlying: str, day: dt.date) -> pd.DataFrame:
        """At-the-money IV per expiry on ``day``."""
        sql = f"""
            SELECT expiration_date, min(days_to_expiry) AS days_to_expiry,
                   min_by(implied_volatility, abs(log_moneyness)) AS atm_iv, max(source) AS source
            FROM {self._t("mart_vol_surface")}
            WHERE underlying = ? AND trade_date = ? AND implied_volatility IS NOT NULL
            GROUP BY expiration_date ORDER BY expiration_date
        """
        return self._run(sql, [underlying, day])

    def surface(self, underlying: str, day: dt.date, max_log_moneyness: float) -> pd.DataFrame:
        """Mean IV per expiry and log-moneyness bin (long format; the figure pivots it)."""
        sql = f"""
            SELECT expiration_date, min(days_to_expiry) AS days_to_expiry,
                   round(log_moneyness / {SURFACE_BIN}) * {SURFACE_BIN} AS log_moneyness_bin,
                   avg(implied_volatility) AS implied_volatility, max(source) AS source
            FROM {self._t("mart_vol_surface")}
            WHERE underlying = ? AND trade_date = ? AND implied_volatility IS NOT NULL
              AND abs(log_moneyness) <= CAST(? AS DOUBLE)
            GROUP BY expiration_date, round(log_moneyness / {SURFACE_BIN}) * {SURFACE_BIN}
            ORDER BY expiration_date, log_moneyness_bin
        """
        return self._run(sql, [underlying, day, max_log_moneyness])

    def realized_vs_implied(self, underlying: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        """dbt's 30-day ATM IV, IV rank and percentile (each over the day's last 252 trading days, NULL until
        20) beside the 20-day realized volatility, per day."""
        sql = f"""
            SELECT iv.trade_date, iv.atm_implied_volatility_30d AS atm_iv, s.realized_volatility_20d, iv.iv_rank,
                   iv.iv_percentile, iv.window_days, iv.source
            FROM {self._t("mart_options_iv_rank")} AS iv LEFT JOIN {self._t("mart_stock_daily")} AS s
              ON s.ticker = ? AND s.trade_date = iv.trade_date
            WHERE iv.underlying = ? AND iv.trade_date BETWEEN ? AND ?
            ORDER BY iv.trade_date
        """  # fmt: skip
        return self._run(sql, [underlying, underlying, start, end])

    # -- /positioning --------------------------------------------------------------------------------

    def oi_by_strike(
        self, underlying: str, day: dt.date, expiry: dt.date | None, band: float
    ) -> pd.DataFrame:
        """OI, volume and gamma exposure by strike on ``day`` (one expiry or all), with the change since the
        previous trading day; strikes within ``band`` (relative) of the underlying. ``net_gex`` is NULL
        without open interest (backfilled days); ``volume_gex`` is the volume proxy."""
        expiry_sql = "" if expiry is None else " AND expiration_date = ?"
        expiry_params: list[Any] = [] if expiry is None else [expiry]
        # The previous day first, as a value: a day bound as a parameter lets the reader open that day's
        # partition files only, where a subquery would make it open every day's file to find out.
        found = self._run(
            f"SELECT max(trade_date) AS trade_date FROM {self._t('mart_options_positioning')} "
            "WHERE underlying = ? AND trade_date < ?",
            [underlying, day],
        )
        previous = found["trade_date"].iloc[0] if len(found) else None
        previous = None if previous is None or pd.isna(previous) else pd.Timestamp(previous).date()
        sql = f"""
            WITH by_strike AS (
                SELECT trade_date, strike_price, max(underlying_price) AS underlying_price,
                       sum(call_open_interest) AS call_oi, sum(put_open_interest) AS put_oi,
                       sum(call_volume) AS call_volume, sum(put_volume) AS put_volume,
                       sum(net_gamma_exposure) AS net_gex, sum(net_volume_gamma_exposure) AS volume_gex,
                       max(source) AS source
                FROM {self._t("mart_options_oi_by_strike")}
                WHERE underlying = ? AND trade_date IN (?, ?){expiry_sql}
                GROUP BY trade_date, strike_price
            ),
            today AS (SELECT * FROM by_strike WHERE trade_date = ?),
            before AS (SELECT * FROM by_strike WHERE trade_date = ?)
            SELECT t.strike_price, t.underlying_price, t.call_oi, t.put_oi, t.call_volume, t.put_volume,
                   t.net_gex, t.volume_gex, t.call_oi - b.call_oi AS call_oi_change, t.put_oi - b.put_oi AS put_oi_change,
                   CAST(? AS DATE) AS previous_day, t.source
            FROM today AS t LEFT JOIN before AS b ON b.strike_price = t.strike_price
            WHERE t.strike_price BETWEEN t.underlying_price * (1 - CAST(? AS DOUBLE)) AND t.underlying_price * (1 + CAST(? AS DOUBLE))
            ORDER BY t.strike_price
        """  # fmt: skip
        other = previous or day  # no previous day: the same day twice, and no "before" rows
        return self._run(sql, [underlying, day, other, *expiry_params, day, previous, previous, band, band])

    def positioning_history(self, underlying: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        sql = f"""
            SELECT trade_date, underlying_price, put_call_volume_ratio, put_call_open_interest_ratio,
                   total_open_interest, net_gamma_exposure, nearest_expiration_date, nearest_expiry_max_pain_strike,
                   source
            FROM {self._t("mart_options_positioning")}
            WHERE underlying = ? AND trade_date BETWEEN ? AND ?
            ORDER BY trade_date
        """
        return self._run(sql, [underlying, start, end])

    def max_pain(self, underlying: str, day: dt.date) -> pd.DataFrame:
        sql = f"""
            SELECT expiration_date, days_to_expiry, underlying_price, max_pain_strike, max_pain_distance,
                   call_open_interest, put_open_interest, source
            FROM {self._t("mart_options_max_pain")}
            WHERE underlying = ? AND trade_date = ?
            ORDER BY expiration_date
        """
        return self._run(sql, [underlying, day])

    # -- /readyz -------------------------------------------------------------------------------------

    def newest_day(self) -> dt.date | None:
        """The newest trading day in the marts (the positioning mart: one row per underlying and day)."""
        df = self._run(f"SELECT max(trade_date) AS day FROM {self._t('mart_options_positioning')}")
        value = df["day"].iloc[0] if len(df) else None
        return None if value is None or pd.isna(value) else _as_date(value)

    def freshness(self) -> Verdict:
        """The SLA on the dashboard's clock: its own SMELT_SIM_NOW, else the simulator day the build was made
        on (pinned simulated marts), else the wall clock."""
        pinned = self.sla.pinned or _optional_date(self.build().get("sim_now"))
        return replace(self.sla, pinned=pinned).judge(self.newest_day())

    def runs(self, limit: int = RECENT_RUNS) -> list[dict[str, Any]]:
        """The newest run reports, newest first (not cached by version: a failed run publishes nothing)."""
        return self.source.runs(limit)

    def ready(self) -> int:
        """For /readyz: a round trip to the source on every call, then the rows of the positioning mart (cached
        per build like any query: on Snowflake the marts are views, and counting one on every probe would keep
        the dashboard's warehouse running day and night)."""
        handle = self.source.handle()
        self.source.ping(handle)
        df = self._run(f"SELECT count(*) AS n FROM {self._t('mart_options_positioning')}")
        return int(df["n"].iloc[0])


def _optional_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def simulated(*frames: pd.DataFrame) -> bool:
    """Whether any shown row is simulated (``max(source)`` is 'simulator' when any row is)."""
    return any("source" in f.columns and (f["source"] == "simulator").any() for f in frames if not f.empty)


def _frozen(value: Any) -> Any:
    """Lists (a checklist's value, a dropdown with ``multi``) as tuples, so that they can be a key."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value
