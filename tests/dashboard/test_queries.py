"""The query module against a warehouse built by a real `smelt run`: each answer checked against the marts
themselves (read independently from the snapshot's Parquet files), bound parameters only, the allow-list,
the sandbox, and the cache with its invalidation on a new snapshot."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pytest

from dashboard.marts import SnapshotSource
from dashboard.queries import Queries
from tests.dashboard.support import END, HOLIDAY, START, UNDERLYINGS
from workflows.marts_contract import current_version, mart_files
from workflows.publish import publish, snapshot_root


def marts(settings) -> duckdb.DuckDBPyConnection:  # type: ignore[no-untyped-def]
    """An independent reader of the current snapshot's Parquet files."""
    root = snapshot_root(settings)
    con = duckdb.connect()
    for name, paths in mart_files(root, str(current_version(root))).items():
        files = [str(path) for path in paths]
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files!r}, hive_partitioning = false)")
    return con


def test_lists_offer_what_the_warehouse_holds(q: Queries) -> None:
    assert q.underlyings() == tuple(sorted(UNDERLYINGS))
    days = q.option_days("AAPL")
    assert days[0] == END and days[-1] == START
    assert list(days) == sorted(days, reverse=True)
    assert HOLIDAY not in days
    assert q.stock_days("AAPL") == days
    expiries = q.expiries("AAPL", END)
    assert len(expiries) > 5
    assert (expiries["days_to_expiry"] >= 0).all() and (expiries["contracts"] > 0).all()


def test_stock_history_windows_and_bands(q: Queries) -> None:
    bars = q.stock_history("AAPL", START, END, adjusted=True)
    assert len(bars) == len(q.option_days("AAPL"))
    # The history starts at START, so the 20-day windows fill on the 20th bar and not before.
    assert bars["sma_20"].iloc[:19].isna().all() and bars["sma_20"].iloc[19:].notna().all()
    assert bars["sma_200"].isna().all()
    closes = bars["close"].astype(float)
    # The averages are the mart's (dbt rounds them to 6 decimals), not recomputed here.
    assert math.isclose(float(bars["sma_20"].iloc[19]), float(closes.iloc[:20].mean()), abs_tol=1e-6)
    sd = float(closes.iloc[:20].std(ddof=1))
    assert math.isclose(
        float(bars["bollinger_upper"].iloc[19]), float(closes.iloc[:20].mean()) + 2 * sd, abs_tol=1e-5
    )
    assert (bars["bollinger_upper"].iloc[19:] > bars["bollinger_lower"].iloc[19:]).all()
    later = q.stock_history("AAPL", dt.date(2026, 11, 20), END, adjusted=True)
    # A later start still sees the earlier bars for its windows.
    assert later["sma_20"].iloc[-1] == pytest.approx(float(bars["sma_20"].iloc[-1]))
    raw = q.stock_history("AAPL", START, END, adjusted=False)
    factor = raw["split_adjustment_factor"].astype(float)
    assert (raw["close"].astype(float) * factor).round(4).tolist() == pytest.approx(
        closes.round(4).tolist(), rel=1e-6
    )
    # As-traded averages are the adjusted ones in the day's units: a split never bends them.
    assert (raw["sma_20"] * factor).dropna().tolist() == pytest.approx(bars["sma_20"].dropna().tolist())


def test_chain_pivots_calls_and_puts_per_strike(q: Queries, built_home) -> None:  # type: ignore[no-untyped-def]
    expiry = q.expiries("SPY", END)["expiration_date"].iloc[3]
    chain = q.chain("SPY", END, expiry, None)
    direct = (
        marts(built_home)
        .execute(
            "SELECT strike_price, contract_type, bid, ask, open_interest, implied_volatility, option_ticker "
            "FROM mart_option_chain WHERE underlying = 'SPY' AND trade_date = ? AND expiration_date = ?",
            [END, expiry],
        )
        .fetchall()
    )
    assert len(chain) == len({row[0] for row in direct})
    by_key = {(row[0], row[1]): row for row in direct}
    for row in chain.itertuples():
        for side in ("call", "put"):
            if (row.strike_price, side) in by_key:
                want = by_key[(row.strike_price, side)]
                assert getattr(row, f"{side}_option_ticker") == want[6]
                assert getattr(row, f"{side}_open_interest") == want[4]
    spot = float(chain["underlying_price"].iloc[0])
    distances = (chain["strike_price"].astype(float) - spot).abs()
    assert chain["is_atm"].tolist() == (distances == distances.min()).tolist()
    near = q.chain("SPY", END, expiry, 0.05)
    assert 0 < len(near) < len(chain)
    assert (abs((spot / near["strike_price"].astype(float)).map(math.log)) <= 0.05 + 1e-9).all()


def test_empty_answers_for_days_without_data(q: Queries) -> None:
    assert q.chain("SPY", HOLIDAY, END, None).empty
    assert q.expiries("AAPL", HOLIDAY).empty
    assert q.term_structure("AAPL", dt.date(2020, 1, 2)).empty
    assert q.oi_by_strike("AAPL", HOLIDAY, None, 0.2).empty
    assert q.legs("AAPL", END, []).empty


def test_volatility_queries(q: Queries, built_home) -> None:  # type: ignore[no-untyped-def]
    term = q.term_structure("AAPL", END)
    assert list(term["days_to_expiry"]) == sorted(term["days_to_expiry"])
    assert ((term["atm_iv"] > 0) & (term["atm_iv"] < 3)).all()
    atm = q.atm_iv_history("AAPL", START, END)
    assert len(atm) == len(q.option_days("AAPL"))
    # One definition of the 30-day ATM IV, IV rank and percentile: dbt's, as published, never recomputed.
    published = (
        marts(built_home)
        .execute(
            "SELECT atm_implied_volatility_30d, iv_rank, iv_percentile, window_days FROM mart_options_iv_rank "
            "WHERE underlying = 'AAPL' AND trade_date = ?",
            [END],
        )
        .fetchone()
    )
    assert float(atm["atm_iv"].iloc[-1]) == pytest.approx(published[0])
    surface = q.surface("AAPL", END, 0.3)
    bins = surface["log_moneyness_bin"].astype(float)
    assert ((bins / 0.025).round(6) == (bins / 0.025).round()).all() and (bins.abs() <= 0.3 + 0.0125).all()
    listed = q.expiries("AAPL", END)
    # Contracts expiring that day have no solvable IV (computed Greeks leave them NULL): take later ones.
    expiries = list(listed[listed["days_to_expiry"] > 0]["expiration_date"][:2])
    smiles = q.smiles("AAPL", END, expiries)
    assert set(smiles["expiration_date"]) == set(expiries)
    rv = q.realized_vs_implied("AAPL", START, END)
    ranked = rv[rv["window_days"] >= 20]
    assert rv["iv_rank"].isna().sum() == len(rv) - len(ranked) > 0 and not ranked.empty  # NULL until 20 days
    assert ((ranked["iv_rank"] >= 0) & (ranked["iv_rank"] <= 1)).all()
    last = rv.iloc[-1]
    assert [float(last[c]) for c in ("atm_iv", "iv_rank", "iv_percentile")] == pytest.approx(published[:3])
    below = (rv["atm_iv"] < last["atm_iv"]).sum()  # the history is shorter than 252 days: all of it counts
    assert int(last["window_days"]) == len(rv)
    assert float(last["iv_percentile"]) == pytest.approx(below / (len(rv) - 1), abs=1e-6)
    assert rv["realized_volatility_20d"].iloc[-1] > 0


def test_positioning_aggregates_in_the_warehouse(q: Queries, built_home) -> None:  # type: ignore[no-untyped-def]
    oi = q.oi_by_strike("SPY", END, None, 0.2)
    previous = q.option_days("SPY")[1]
    con = marts(built_home)
    sums = dict(con.execute(
        "SELECT strike_price, sum(call_open_interest) FROM mart_options_oi_by_strike "
        "WHERE underlying = 'SPY' AND trade_date = ? GROUP BY 1", [END]).fetchall())  # fmt: skip
    before = dict(con.execute(
        "SELECT strike_price, sum(call_open_interest) FROM mart_options_oi_by_strike "
        "WHERE underlying = 'SPY' AND trade_date = ? GROUP BY 1", [previous]).fetchall())  # fmt: skip
    spot = float(oi["underlying_price"].iloc[0])
    assert {float(s) for s in oi["strike_price"]} == {s for s in sums if spot * 0.8 <= s <= spot * 1.2}
    for row in oi.itertuples():
        assert row.call_oi == sums[row.strike_price]
        if before.get(row.strike_price) is not None and row.call_oi is not None:
            assert row.call_oi_change == sums[row.strike_price] - before[row.strike_price]
        else:  # no open interest that day (or the day before): no change to show
            assert row.call_oi_change is None or row.call_oi_change != row.call_oi_change
    assert str(oi["previous_day"].iloc[0])[:10] == previous.isoformat()
    history = q.positioning_history("SPY", START, END)
    assert len(history) == len(q.option_days("SPY"))
    pain = q.max_pain("SPY", END)
    expiries = set(q.expiries("SPY", END)["expiration_date"])
    # one row per expiry that had open interest that day: some, and never an expiry the chain does not list
    assert not pain.empty and pain["expiration_date"].is_unique and set(pain["expiration_date"]) <= expiries


def test_every_statement_binds_its_values(q: Queries, source) -> None:  # type: ignore[no-untyped-def]
    expiry = q.expiries("AAPL", END)["expiration_date"].iloc[2]
    q.chain("AAPL", END, expiry, 0.1)
    q.oi_by_strike("AAPL", END, expiry, 0.2)
    q.legs("AAPL", END, ["O:AAPL261218C00230000"])
    q.stock_history("AAPL", START, END, True)
    for sql, params in source.statements:
        assert sql.count("?") == len(params), sql
        for value in params:
            assert str(value) not in sql, f"{value!r} is in the SQL text"


def test_only_published_marts_and_the_snapshot_folder_are_reachable(q: Queries, source) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="not a published mart"):
        source.table("raw.smelt_loads")
    handle = source.handle()
    for statement in ("SELECT * FROM read_csv('/etc/passwd')", "ATTACH '/tmp/x.duckdb' AS x",
                      "SET enable_external_access = true"):  # fmt: skip
        with pytest.raises(duckdb.Error):
            source.run(handle, statement, [])


def test_cache_answers_repeats_and_clears_on_a_new_snapshot(home_copy) -> None:  # type: ignore[no-untyped-def]
    from tests.dashboard.conftest import RecordingSource

    source = RecordingSource(snapshot_root(home_copy), check_seconds=0)
    q = Queries.over(source)
    first = q.term_structure("AAPL", END)
    q.term_structure("AAPL", END)
    assert len(source.statements) == 1 and q.cache.hits == 1
    old = q.version()
    publish(home_copy)
    assert q.version() != old
    again = q.term_structure("AAPL", END)
    assert len(source.statements) == 2  # asked the new snapshot, not the cache
    assert again.equals(first)  # same warehouse, same answer


def test_a_repeated_view_is_answered_once_per_snapshot(home_copy) -> None:  # type: ignore[no-untyped-def]
    from dashboard.pages import market
    from tests.dashboard.conftest import RecordingSource

    source = RecordingSource(snapshot_root(home_copy), check_seconds=0)
    q = Queries.over(source)
    view = ("AAPL", END.isoformat(), "3m", "adjusted", ["sma20", "move"], "light")
    first = market.market_chart(q, *view)
    asked = len(source.statements)
    assert market.market_chart(q, *view) is first and len(source.statements) == asked
    assert q.answers.hits == 1
    refused = market.market_chart(q, "AAPL'; DROP", *view[1:])
    assert market.market_chart(q, "AAPL'; DROP", *view[1:]) is not refused  # refusals are not kept
    publish(home_copy)
    assert market.market_chart(q, *view) is not first  # a new snapshot is drawn again
    assert len(source.statements) > asked


def test_queries_keep_working_while_a_snapshot_is_replaced(home_copy) -> None:  # type: ignore[no-untyped-def]
    source = SnapshotSource(snapshot_root(home_copy), check_seconds=0)
    q = Queries.over(source, entries=0)
    before = q.chain("AAPL", END, q.expiries("AAPL", END)["expiration_date"].iloc[1], None)
    for _ in range(3):
        publish(home_copy)
        after = q.chain("AAPL", END, q.expiries("AAPL", END)["expiration_date"].iloc[1], None)
        assert after.equals(before)
