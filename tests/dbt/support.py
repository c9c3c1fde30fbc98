"""A small synthetic market in Polygon's raw record shapes, loaded into the landing tables, and a dbt runner.

The raw landing tables get records shaped exactly like Polygon's API items (short keys in aggregates, ms bar
times, ns snapshot times, nested snapshot objects) plus the ingest's ``_meta`` object, for:

* 3 underlyings (AAA, BBB, CCC) x ~260 NYSE sessions of grouped daily bars from a geometric Brownian motion;
  BBB split 2-for-1 in the past; AAA's day ``DUP_DAY`` landed twice (a bad first fetch, then a re-fetch);
* chain snapshots for the last 5 sessions: 2 expiries x 10 strikes x call/put per underlying, Black-Scholes
  prices and Greeks on a volatility smile, random open interest and volume (BBB has no call volume one day);
* contracts as of each options day, and option range-aggregate bars for 3 backfill sessions of AAA (plus a few
  bars on a snapshot day, which the snapshot must win over);
* then an increment: the next session for all three (AAA and BBB options only), a 3-for-1 CCC split executing
  that day, and an identical re-ingest of the previous session's stock bars.

dbt runs in-process through ``dbtRunner`` with the project's own profiles.yml (target duckdb).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import duckdb

from workflows import calendar
from workflows.warehouse.ddl import duckdb_ddl

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC

LANDING = (
    "polygon_stock_bars",
    "polygon_stock_splits",
    "polygon_option_contracts",
    "polygon_option_snapshots",
    "polygon_option_bars",
    "polygon_stock_dividends",
    "polygon_treasury_yields",
    "polygon_option_greeks",
)

N_DAYS = 262
LAST_DAY = dt.date(2024, 6, 21)  # the last session of the first load (a Friday)
DAYS = calendar.previous_trading_days(LAST_DAY, N_DAYS)
NEW_DAY = calendar.trading_days(LAST_DAY + dt.timedelta(days=1), LAST_DAY + dt.timedelta(days=10))[0]
SESSIONS = [*DAYS, NEW_DAY]  # the increment adds NEW_DAY
assert DAYS[-1] == LAST_DAY and NEW_DAY > LAST_DAY
OPTION_DAYS = DAYS[-5:]
BACKFILL_DAYS = DAYS[-8:-5]
DUP_DAY = DAYS[-10]
BBB_SPLIT_DAY = DAYS[150]
AAA_FUTURE_SPLIT_DAY = NEW_DAY + dt.timedelta(days=30)  # announced, not executed: must not adjust anything
UNDERLYINGS = ("AAA", "BBB", "CCC")
START_PRICE = {"AAA": 150.0, "BBB": 80.0, "CCC": 300.0}
ANNUAL_VOL = {"AAA": 0.28, "BBB": 0.40, "CCC": 0.22}


def ms(ts: dt.datetime) -> int:
    return int(ts.timestamp() * 1000)


def ns(ts: dt.datetime) -> int:
    return int(ts.timestamp()) * 1_000_000_000 + ts.microsecond * 1000


def session_end(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(16, 0), NEW_YORK)


def ny_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), NEW_YORK)


def third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


EXPIRIES = (third_friday(2024, 7), third_friday(2024, 8))


def occ(root: str, expiry: dt.date, kind: str, strike: float) -> str:
    return f"O:{root}{expiry:%y%m%d}{kind[0].upper()}{round(strike * 1000):08d}"


def norm_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def black_scholes(kind: str, s: float, k: float, t: float, vol: float) -> dict[str, float]:
    """Price and Greeks at zero rates; theta per calendar day, vega per vol point."""
    d1 = (math.log(s / k) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    if kind == "call":
        price, delta = s * norm_cdf(d1) - k * norm_cdf(d2), norm_cdf(d1)
    else:
        price, delta = k * norm_cdf(-d2) - s * norm_cdf(-d1), norm_cdf(d1) - 1
    return {
        "price": price,
        "delta": delta,
        "gamma": norm_pdf(d1) / (s * vol * math.sqrt(t)),
        "theta": -s * norm_pdf(d1) * vol / (2 * math.sqrt(t)) / 365,
        "vega": s * norm_pdf(d1) * math.sqrt(t) / 100,
    }


@dataclass
class Raw:
    """Landing rows per table: (record, trade_date, underlying, source_file, source_row, loaded_at)."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in LANDING})
    loads: list[tuple[Any, ...]] = field(default_factory=list)

    def add(
        self,
        table: str,
        day: dt.date,
        underlying: str | None,
        items: list[dict[str, Any]],
        *,
        fetched_at: dt.datetime,
        loaded_at: dt.datetime,
        run: str = "run1",
        per_item_meta: list[dict[str, Any]] | None = None,
    ) -> None:
        dataset = table.removeprefix("polygon_")
        part = f"raw/polygon/{dataset}/dt={day}/" + (f"underlying={underlying}/" if underlying else "")
        source_file = f"{part}part-00000.ndjson.gz#{run}"
        for i, item in enumerate(items, start=1):
            meta = {
                "source": "simulator",
                "endpoint": f"/{dataset}",
                "request_id": f"{run}-{dataset}-{day}-{underlying}",
                "fetched_at": fetched_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "trade_date": day.isoformat(),
                "underlying": underlying,
            }
            if per_item_meta:
                meta.update(per_item_meta[i - 1])
            record = {**item, "_meta": meta}
            self.rows[table].append((json.dumps(record), day, underlying, source_file, i, loaded_at))
        manifest = f"raw/_manifests/{dataset}/dt={day}/{underlying or 'all'}-{run}.json"
        self.loads.append((manifest, dataset, day, 1, len(items), "0" * 64, loaded_at))

    def write(self, db_path: Path) -> None:
        con = duckdb.connect(str(db_path))
        try:
            con.execute("create schema if not exists raw")
            for table in LANDING:
                con.execute(
                    f"""create table if not exists raw.{table} (
                        record json not null, trade_date date not null, underlying varchar,
                        source_file varchar not null, source_row bigint not null, loaded_at timestamptz not null)"""
                )
                if self.rows[table]:
                    con.executemany(f"insert into raw.{table} values (?, ?, ?, ?, ?, ?)", self.rows[table])
            for statement in duckdb_ddl():  # the loader's other landing tables (the flat files'), empty
                con.execute(statement)
            con.execute(
                """create table if not exists raw.smelt_loads (
                    manifest_key varchar primary key, dataset varchar not null, trade_date date not null,
                    files integer not null, rows bigint not null, sha256 varchar not null,
                    loaded_at timestamptz not null)"""
            )
            if self.loads:
                con.executemany("insert into raw.smelt_loads values (?, ?, ?, ?, ?, ?, ?)", self.loads)
        finally:
            con.close()


@dataclass
class Market:
    """The economic (post-all-splits) price path per ticker and session, and the raw split multipliers."""

    path: dict[str, dict[dt.date, float]]
    rng: random.Random

    @classmethod
    def simulate(cls, seed: int = 7) -> Market:
        rng = random.Random(seed)
        path: dict[str, dict[dt.date, float]] = {}
        for ticker in UNDERLYINGS:
            price, sigma = START_PRICE[ticker], ANNUAL_VOL[ticker] / math.sqrt(252)
            series = {}
            for day in SESSIONS:
                price *= math.exp(-0.5 * sigma * sigma + sigma * rng.gauss(0, 1))
                series[day] = round(price, 4)
            path[ticker] = series
        return cls(path, rng)

    def raw_close(self, ticker: str, day: dt.date) -> float:
        """Unadjusted close: BBB traded at twice the price before its split, CCC at three times."""
        close = self.path[ticker][day]
        if ticker == "BBB" and day < BBB_SPLIT_DAY:
            close *= 2
        if ticker == "CCC" and day < NEW_DAY:
            close *= 3
        return round(close, 4)


def stock_bar(m: Market, ticker: str, day: dt.date) -> dict[str, Any]:
    c = m.raw_close(ticker, day)
    o = round(c * (1 + m.rng.uniform(-0.01, 0.01)), 4)
    h = round(max(o, c) * (1 + m.rng.uniform(0, 0.01)), 4)
    lo = round(min(o, c) * (1 - m.rng.uniform(0, 0.01)), 4)
    return {
        "T": ticker,
        "v": float(m.rng.randint(1_000_000, 9_000_000)),
        "vw": round((o + h + lo + c) / 4, 4),
        "o": o,
        "c": c,
        "h": h,
        "l": lo,
        "t": ms(session_end(day)),
        "n": m.rng.randint(5_000, 90_000),
    }


def strikes_for(m: Market, ticker: str) -> list[float]:
    spot = m.raw_close(ticker, OPTION_DAYS[0])
    step = 5.0 if spot > 100 else 2.5
    center = round(spot / step) * step
    return [center + step * i for i in range(-5, 5)]


def contract(ticker: str, expiry: dt.date, kind: str, strike: float) -> dict[str, Any]:
    return {
        "cfi": "OCASPS" if kind == "call" else "OPASPS",
        "contract_type": kind,
        "exercise_style": "american",
        "expiration_date": expiry.isoformat(),
        "primary_exchange": "BATO",
        "shares_per_contract": 100,
        "strike_price": strike,
        "ticker": occ(ticker, expiry, kind, strike),
        "underlying_ticker": ticker,
    }


def smile(s: float, k: float) -> float:
    x = math.log(k / s)
    return 0.25 - 0.15 * x + 0.6 * x * x


def snapshot_item(
    m: Market, ticker: str, day: dt.date, expiry: dt.date, kind: str, k: float
) -> dict[str, Any]:
    s = m.raw_close(ticker, day)
    t = (expiry - day).days / 365
    iv = smile(s, k)
    bs = black_scholes(kind, s, k, t, iv)
    price = max(round(bs["price"], 2), 0.01)
    spread = max(0.01, round(price * 0.04, 2))
    volume = 0 if (ticker == "BBB" and day == OPTION_DAYS[-2] and kind == "call") else m.rng.randint(0, 800)
    stamp = ns(session_end(day))
    return {
        "break_even_price": round(k + price if kind == "call" else k - price, 4),
        "day": {
            "change": 0.0,
            "change_percent": 0.0,
            "close": price,
            "high": round(price * 1.05, 2),
            "last_updated": ns(ny_midnight(day)),
            "low": round(price * 0.95, 2),
            "open": price,
            "previous_close": price,
            "volume": volume,
            "vwap": price,
        },
        "details": {
            "contract_type": kind,
            "exercise_style": "american",
            "expiration_date": expiry.isoformat(),
            "shares_per_contract": 100,
            "strike_price": k,
            "ticker": occ(ticker, expiry, kind, k),
        },
        "fmv": price,
        "greeks": {key: bs[key] for key in ("delta", "gamma", "theta", "vega")},
        "implied_volatility": iv,
        "last_quote": {
            "ask": round(price + spread / 2, 3),
            "ask_size": m.rng.randint(1, 300),
            "bid": round(price - spread / 2, 3),
            "bid_size": m.rng.randint(1, 300),
            "last_updated": stamp,
            "midpoint": round(price, 3),
            "timeframe": "REAL-TIME",
        },
        "last_trade": {
            "conditions": [209],
            "exchange": 316,
            "price": price,
            "sip_timestamp": stamp - 5_000_000_000,
            "size": 1,
            "timeframe": "REAL-TIME",
        },
        "open_interest": m.rng.randint(50, 6000),
        "underlying_asset": {
            "change_to_break_even": 0.0,
            "last_updated": stamp,
            "price": s,
            "ticker": ticker,
            "timeframe": "REAL-TIME",
        },
    }


def option_bar(m: Market, ticker: str, day: dt.date, expiry: dt.date, kind: str, k: float) -> dict[str, Any]:
    s = m.raw_close(ticker, day)
    price = max(round(black_scholes(kind, s, k, (expiry - day).days / 365, smile(s, k))["price"], 2), 0.01)
    return {
        "v": float(m.rng.randint(0, 500)),
        "vw": price,
        "o": price,
        "c": price,
        "h": round(price * 1.03, 2),
        "l": round(price * 0.97, 2),
        "t": ms(ny_midnight(day)),
        "n": m.rng.randint(0, 60),
    }


def load_time(day: dt.date, hour: int = 22) -> dt.datetime:
    """Ingests fetch at 21:00Z and the loader inserts at 22:00Z on the day, unless a test says otherwise."""
    return dt.datetime.combine(day, dt.time(hour), UTC)


def initial_load(m: Market) -> Raw:
    raw = Raw()
    for day in DAYS:
        raw.add(
            "polygon_stock_bars",
            day,
            None,
            [stock_bar(m, t, day) for t in UNDERLYINGS],
            fetched_at=load_time(day, 21),
            loaded_at=load_time(day),
        )
    # DUP_DAY first landed with a bad AAA close, then was re-ingested: the newer fetch must win.
    bad = stock_bar(m, "AAA", DUP_DAY) | {"c": 9999.0}
    raw.rows["polygon_stock_bars"] = [
        r for r in raw.rows["polygon_stock_bars"] if not (r[1] == DUP_DAY and json.loads(r[0])["T"] == "AAA")
    ]
    raw.add("polygon_stock_bars", DUP_DAY, None, [bad], fetched_at=load_time(DUP_DAY, 21),
            loaded_at=load_time(DUP_DAY), run="run1-aaa")  # fmt: skip
    raw.add("polygon_stock_bars", DUP_DAY, None, [stock_bar(m, "AAA", DUP_DAY)],
            fetched_at=load_time(DUP_DAY, 23), loaded_at=load_time(DUP_DAY, 23), run="rerun")  # fmt: skip
    raw.add("polygon_stock_splits", BBB_SPLIT_DAY, None,
            [{"execution_date": BBB_SPLIT_DAY.isoformat(), "id": "E-BBB-1", "split_from": 1, "split_to": 2,
              "ticker": "BBB"}],
            fetched_at=load_time(BBB_SPLIT_DAY, 21), loaded_at=load_time(BBB_SPLIT_DAY))  # fmt: skip
    raw.add("polygon_stock_splits", LAST_DAY, None,
            [{"execution_date": AAA_FUTURE_SPLIT_DAY.isoformat(), "id": "E-AAA-1", "split_from": 1,
              "split_to": 4, "ticker": "AAA"}],
            fetched_at=load_time(LAST_DAY, 21), loaded_at=load_time(LAST_DAY))  # fmt: skip
    for ticker in UNDERLYINGS:
        add_options(raw, m, ticker, OPTION_DAYS)
    # Backfill: contracts as of each day and one range-aggs request per contract, split per bar day.
    grid = option_grid(m, "AAA")
    for day in BACKFILL_DAYS:
        raw.add("polygon_option_contracts", day, "AAA", [contract("AAA", *g) for g in grid],
                fetched_at=load_time(day, 21), loaded_at=load_time(day))  # fmt: skip
    for day in [*BACKFILL_DAYS, OPTION_DAYS[0]]:
        some = grid if day != OPTION_DAYS[0] else grid[:4]
        raw.add(
            "polygon_option_bars",
            day,
            "AAA",
            [option_bar(m, "AAA", day, *g) for g in some],
            fetched_at=load_time(LAST_DAY, 21),
            loaded_at=load_time(LAST_DAY),
            per_item_meta=[{"ticker": occ("AAA", *g)} for g in some],
        )
    return raw


def option_grid(m: Market, ticker: str) -> list[tuple[dt.date, str, float]]:
    return [(e, kind, k) for e in EXPIRIES for kind in ("call", "put") for k in strikes_for(m, ticker)]


def add_options(raw: Raw, m: Market, ticker: str, days: list[dt.date]) -> None:
    grid = option_grid(m, ticker)
    for day in days:
        raw.add("polygon_option_contracts", day, ticker, [contract(ticker, *g) for g in grid],
                fetched_at=load_time(day, 21), loaded_at=load_time(day))  # fmt: skip
        raw.add("polygon_option_snapshots", day, ticker, [snapshot_item(m, ticker, day, *g) for g in grid],
                fetched_at=load_time(day, 21), loaded_at=load_time(day))  # fmt: skip


def increment_load(m: Market, previous: Raw) -> Raw:
    raw = Raw()
    raw.add("polygon_stock_bars", NEW_DAY, None, [stock_bar(m, t, NEW_DAY) for t in UNDERLYINGS],
            fetched_at=load_time(NEW_DAY, 21), loaded_at=load_time(NEW_DAY), run="run2")  # fmt: skip
    raw.add("polygon_stock_splits", NEW_DAY, None,
            [{"execution_date": NEW_DAY.isoformat(), "id": "E-CCC-1", "split_from": 1, "split_to": 3,
              "ticker": "CCC"}],
            fetched_at=load_time(NEW_DAY, 21), loaded_at=load_time(NEW_DAY), run="run2")  # fmt: skip
    # The previous session's stock bars ingested again, same content: nothing downstream may change.
    again = [json.loads(r[0]) for r in previous.rows["polygon_stock_bars"] if r[1] == LAST_DAY]
    raw.add("polygon_stock_bars", LAST_DAY, None, [{k: v for k, v in a.items() if k != "_meta"} for a in again],
            fetched_at=load_time(NEW_DAY, 21), loaded_at=load_time(NEW_DAY), run="run2-again")  # fmt: skip
    for ticker in ("AAA", "BBB"):
        add_options(raw, m, ticker, [NEW_DAY])
    return raw


@dataclass
class DbtProject:
    """Runs dbt on one DuckDB file, with target and log paths under a temporary directory."""

    db_path: Path
    work: Path

    def invoke(self, *args: str) -> tuple[Any, float]:
        from dbt.cli.main import dbtRunner

        argv = [
            *args,
            "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
            "--target-path", str(self.work / "target"), "--log-path", str(self.work / "logs"),
            "--threads", "2",
        ]  # fmt: skip
        env = {"SMELT_DUCKDB_PATH": str(self.db_path), "DO_NOT_TRACK": "1"}
        started = time.perf_counter()
        with mock.patch.dict(os.environ, env):
            result = dbtRunner().invoke(argv)
        return result, time.perf_counter() - started

    def copy_to(self, other: Path) -> None:
        """Copy the warehouse file, after a checkpoint (dbt may still hold it open with a write-ahead log)."""
        con = duckdb.connect(str(self.db_path))
        try:
            con.execute("checkpoint")
        finally:
            con.close()
        shutil.copyfile(self.db_path, other)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(self.db_path))
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def table(self, relation: str, order_by: str, exclude: tuple[str, ...] = ("_batch_at",)) -> Any:
        con = duckdb.connect(str(self.db_path))
        try:
            cols = [
                c for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    relation.split("."),
                ).fetchall()
                if c not in exclude
            ]  # fmt: skip
            return con.execute(f"select {', '.join(cols)} from {relation} order by {order_by}").df()
        finally:
            con.close()


def failures(result: Any) -> list[str]:
    out = []
    for r in getattr(result.result, "results", None) or []:
        status = str(getattr(r.status, "value", r.status))
        if status not in {"success", "pass"}:
            out.append(f"{r.node.resource_type} {r.node.name}: {status} {(r.message or '')[:500]}")
    if result.exception is not None:
        out.append(repr(result.exception))
    return out


# Every table the incremental comparison covers, with its grain.
COMPARED = {
    "intermediate.int_polygon__stock_bars_adjusted": "ticker, trade_date",
    "intermediate.int_polygon__stock_indicators": "ticker, trade_date",
    "intermediate.int_polygon__option_chain_daily": "option_ticker, trade_date",
    "intermediate.int_polygon__option_strikes_daily": "underlying, trade_date, expiration_date, strike_price",
    "intermediate.int_polygon__option_max_pain": "underlying, trade_date, expiration_date",
    "intermediate.int_polygon__option_positioning_daily": "underlying, trade_date",
    "intermediate.int_polygon__options_stocks_joined": "option_ticker, trade_date",
    "intermediate.int_options__provenance": "option_ticker, trade_date",
    "marts.mart_stock_daily": "ticker, trade_date",
    "marts.mart_option_chain": "option_ticker, trade_date",
    "marts.mart_vol_surface": "underlying, trade_date, expiration_date, strike_price",
    "marts.mart_options_oi_by_strike": "underlying, trade_date, expiration_date, strike_price",
    "marts.mart_options_max_pain": "underlying, trade_date, expiration_date",
    "marts.mart_options_positioning": "underlying, trade_date",
    "marts.mart_polygon__options_stocks_joined": "option_ticker, trade_date",
    "marts.mart_option_provenance": "option_ticker, trade_date",
}


@dataclass
class Builds:
    """The warehouse after each build, as DataFrames per compared table, plus results and timings."""

    project: DbtProject
    market: Market
    first: dict[str, Any]
    incremental: dict[str, Any]
    full_refresh: dict[str, Any]
    staging_after_first: dict[str, Any]
    results: dict[str, Any]
    seconds: dict[str, float]


def snapshot_tables(project: DbtProject) -> dict[str, Any]:
    return {name: project.table(name, order) for name, order in COMPARED.items()}
