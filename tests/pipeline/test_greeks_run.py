"""Computed IV and Greeks in the pipeline, on the simulator that behaves like Polygon (its chain snapshot only
knows the latest session, so `smelt run` over past days takes the backfill path):

* a year backfilled for two underlyings (V splits 2-for-1 on 2026-04-23 and pays dividends; XOM pays the
  most) gives a vol surface on every trading day, gamma exposure wherever open interest exists and its
  volume proxy on every day;
* the computed IV of the snapshot day agrees with the simulator's own by moneyness bucket, within stated bands;
* no NaN or infinity reaches a mart; every unsolved row has a reason;
* incremental runs equal a full refresh (a smaller range: one underlying, two runs);
* a user with history only (no snapshot ever) gets a transform that passes its freshness checks, and a stale
  source fails naming the source, its newest row, its age and the threshold.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from tests.marks import builds_a_warehouse
from tests.pipeline.support import mart_fingerprints
from workflows import calendar, steps
from workflows.pricing import REASONS
from workflows.settings import Settings, load_settings

YEAR_START, YEAR_END = dt.date(2025, 12, 1), dt.date(2026, 11, 27)
UNDERLYINGS = ("V", "XOM")
#: Agreement of computed with vendor IV on the snapshot day, by moneyness bucket: the median absolute gap
#: must stay under the first number and 95% of rows under the second (vol points as fractions). The vendor
#: (here the simulator) prices at its model value; smelt solves from the quote midpoint, which is rounded to
#: the cent, so cheap far-from-the-money contracts move most.
IV_BANDS = {
    "atm": (0.0005, 0.002),
    "itm": (0.001, 0.005),
    "otm": (0.001, 0.005),
    "deep_itm": (0.002, 0.05),
    "deep_otm": (0.005, 0.05),
}


def _settings(home: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"home": home, "underlyings": UNDERLYINGS, "log_format": "json",
                                 "sim_now": YEAR_END, "sim_market_size": 60, **overrides}  # fmt: skip
    return load_settings(**values)


@pytest.fixture(scope="module")
@builds_a_warehouse
def year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, steps.RunReport]:
    settings = _settings(tmp_path_factory.mktemp("year") / "home")
    return settings, steps.run(
        steps.Resources.from_settings(settings), start=YEAR_START, end=YEAR_END, underlyings=UNDERLYINGS
    )


def _query(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow
@pytest.mark.timeout(1500)  # the fixture backfills and builds a year: minutes on a busy 2-core machine
def test_a_backfilled_year_has_a_vol_surface_every_trading_day(
    year: tuple[Settings, steps.RunReport],
) -> None:
    settings, report = year
    days = calendar.trading_days(YEAR_START, YEAR_END)
    assert report.days == days
    rows = _query(settings, """
        select underlying, trade_date, count(implied_volatility), min(greeks_source), max(greeks_source)
        from marts.mart_vol_surface group by all""")  # fmt: skip
    surface = {(u, d): (n, lo, hi) for u, d, n, lo, hi in rows}
    for u in UNDERLYINGS:
        for d in days:
            n, _, _ = surface[(u, d)]
            assert n >= 20, (u, d)  # strikes with an implied volatility
    # past days were backfilled (no vendor Greeks): their surface is smelt's own
    assert {surface[(u, d)][1] for u in UNDERLYINGS for d in days[:-1]} == {"computed"}
    origins = dict(_query(settings, "select data_origin, count(*) from marts.mart_option_chain group by 1"))
    assert origins["aggregates"] > 50 * origins["snapshot"]
    ranks = dict(_query(settings, """
        select underlying, count(iv_rank) from marts.mart_options_iv_rank group by 1"""))  # fmt: skip
    assert ranks == {u: len(days) - 19 for u in UNDERLYINGS}  # from the 20th day on, every day


@pytest.mark.slow
def test_gamma_exposure_where_open_interest_exists_and_the_volume_proxy_every_day(
    year: tuple[Settings, steps.RunReport],
) -> None:
    settings, report = year
    rows = _query(settings, """
        select trade_date, underlying, net_gamma_exposure, total_open_interest, net_volume_gamma_exposure
        from marts.mart_options_positioning""")  # fmt: skip
    for day, underlying, gex, oi, volume_gex in rows:
        if oi:  # the snapshot day: open interest is known, so is the exposure (computed gamma where needed)
            assert gex is not None and gex != 0, (day, underlying)
        else:  # the vendor has no historical open interest: the exposure is unknown, not zero
            assert gex is None, (day, underlying)
        assert volume_gex is not None and volume_gex != 0, (day, underlying)  # gamma that traded: every day
    assert any(oi for *_, oi, _ in rows)
    assert {(u, d) for d, u, *_ in rows} == {(u, d) for u in UNDERLYINGS for d in report.days}


@pytest.mark.slow
def test_computed_iv_agrees_with_the_vendor_by_moneyness_bucket(
    year: tuple[Settings, steps.RunReport],
) -> None:
    settings, _ = year
    rows = _query(settings, """
        select moneyness_bucket, count(*),
               quantile_cont(abs(computed_implied_volatility - vendor_implied_volatility), 0.5),
               quantile_cont(abs(computed_implied_volatility - vendor_implied_volatility), 0.95)
        from marts.mart_option_chain
        where vendor_implied_volatility is not null and computed_implied_volatility is not null
        group by 1""")  # fmt: skip
    seen = {bucket: (n, median, p95) for bucket, n, median, p95 in rows}
    assert set(seen) == set(IV_BANDS)
    for bucket, (median_band, p95_band) in IV_BANDS.items():
        n, median, p95 = seen[bucket]
        assert n >= 20 and median < median_band and p95 < p95_band, (bucket, n, median, p95)


@pytest.mark.slow
def test_every_unsolved_row_has_a_reason_and_no_nan_reaches_a_mart(
    year: tuple[Settings, steps.RunReport],
) -> None:
    settings, _ = year
    statuses = dict(
        _query(settings, "select computed_status, count(*) from marts.mart_option_chain group by 1")
    )
    assert set(statuses) <= {"solved", *REASONS}
    assert statuses["solved"] > 0.85 * sum(statuses.values())
    assert {"expired", "no_time_value"} <= set(statuses)  # expiry days, deep in-the-money at intrinsic value
    for column in ("computed_implied_volatility", "computed_delta", "computed_gamma", "computed_theta",
                   "computed_vega", "implied_volatility", "delta", "gamma", "theta", "vega"):  # fmt: skip
        [(bad,)] = _query(settings, f"select count(*) from marts.mart_option_chain where isnan({column}) "
                                    f"or isinf({column})")  # fmt: skip
        assert bad == 0, column
    [(mismatch,)] = _query(settings, """
        select count(*) from marts.mart_option_chain
        where (computed_status = 'solved') <> (computed_implied_volatility is not null)""")  # fmt: skip
    assert mismatch == 0


@pytest.mark.slow
def test_the_split_leaves_the_computed_surface_continuous(year: tuple[Settings, steps.RunReport]) -> None:
    settings, _ = year
    split = dt.date(2026, 4, 23)
    before, after = calendar.previous_trading_days(split - dt.timedelta(days=1), 1)[0], split
    rows = _query(settings, f"""
        select trade_date, median(implied_volatility)
        from marts.mart_vol_surface
        where underlying = 'V' and abs(log_moneyness) <= 0.05 and days_to_expiry between 20 and 60
          and trade_date in ('{before}', '{after}')
        group by 1 order by 1""")  # fmt: skip
    (_, iv_before), (_, iv_after) = rows
    assert abs(iv_after / iv_before - 1) < 0.15  # a day's move, not the split's factor
    [(yield_before, yield_after)] = _query(settings, f"""
        select max(case when trade_date = '{before}' then dividend_yield end),
               max(case when trade_date = '{after}' then dividend_yield end)
        from marts.mart_option_chain where underlying = 'V'""")  # fmt: skip
    assert 0.003 < yield_before < 0.012 and abs(yield_after / yield_before - 1) < 0.1  # per share of the day


@pytest.mark.slow
def test_incremental_runs_equal_a_full_refresh(tmp_path: Path) -> None:
    """A week, then two more days (a new latest session, a dividend and curve days that change inputs of
    days already computed): the incremental marts equal a full refresh of the same lake."""
    first = _settings(tmp_path / "home", underlyings=("XOM",), sim_now=dt.date(2026, 11, 20))
    steps.run(
        steps.Resources.from_settings(first),
        start=dt.date(2026, 11, 12),
        end=dt.date(2026, 11, 20),
        underlyings=("XOM",),
    )
    later = steps.Resources.from_settings(
        _settings(tmp_path / "home", underlyings=("XOM",), sim_now=dt.date(2026, 11, 24))
    )
    steps.run(later, start=dt.date(2026, 11, 23), end=dt.date(2026, 11, 24), underlyings=("XOM",))
    incremental = mart_fingerprints(later.settings)
    assert incremental["mart_option_chain"][0] > 3000
    steps.transform(later, full_refresh=True)
    assert mart_fingerprints(later.settings) == incremental


@pytest.mark.slow  # a whole run through dbt
def test_history_only_passes_freshness_and_a_stale_source_says_why(tmp_path: Path) -> None:
    """The new user's path: stocks and an options backfill for one past day, load, transform."""
    day = dt.date(2026, 11, 20)
    settings = _settings(tmp_path / "home", underlyings=("XOM",))
    resources = steps.Resources.from_settings(settings)
    steps.ingest_stocks(resources, day)
    steps.backfill_options(resources, day, day, underlyings=("XOM",))
    steps.load(resources, day)
    steps.transform(resources)
    [(solved, total)] = _query(settings, """
        select count(computed_implied_volatility), count(*) from marts.mart_option_chain""")  # fmt: skip
    assert total > 100 and solved > 0.8 * total

    with duckdb.connect(str(settings.duckdb.path)) as con:
        # Nothing new since that build: the transform judges freshness from the ledger, whose loaded_at the
        # loader stamps with its landing rows', on the session's clock (the one that stamped them)
        stale = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
        con.execute("update raw.polygon_stock_bars set loaded_at = ?", [stale])
        con.execute("update raw.smelt_loads set loaded_at = ? where dataset = 'stock_bars'", [stale])
    with pytest.raises(steps.StepError) as failed:
        steps.transform(resources)
    message = str(failed.value)
    assert "source polygon.polygon_stock_bars: newest row loaded" in message
    assert "days) old" in message and "error after 168 hours" in message
    assert "polygon_option_snapshots" not in message  # never expected: no snapshot run happened
