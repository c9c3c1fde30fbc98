"""dbt build on a synthetic warehouse: schemas, staging dedup, split adjustment, indicators against an
independent pandas computation, and incremental runs equal to a full refresh.

The ``builds`` fixture (conftest.py) runs three dbt invocations once for the module: a first ``build``,
an incremental ``build`` after one more day is loaded, and ``run --full-refresh`` on a copy of the result.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.dbt.support import (
    AAA_FUTURE_SPLIT_DAY,
    BACKFILL_DAYS,
    BBB_SPLIT_DAY,
    COMPARED,
    DUP_DAY,
    LAST_DAY,
    NEW_DAY,
    OPTION_DAYS,
    Builds,
)
from tests.pipeline.support import FETCH_LINEAGE
from workflows.marts_contract import MART_NAMES

STAGING = {
    "stg_polygon__smelt_loads",
    "stg_polygon__stock_bars",
    "stg_polygon__stock_splits",
    "stg_polygon__option_contracts",
    "stg_polygon__option_snapshots",
    "stg_polygon__option_bars",
    "stg_polygon__stock_dividends",
    "stg_polygon__treasury_yields",
    "stg_polygon__stock_day_aggs",
    "stg_polygon__option_day_aggs",
    "stg_smelt__option_greeks",
}
INTERMEDIATE = {
    "int_polygon__stock_bars_adjusted",
    "int_polygon__stock_indicators",
    "int_polygon__option_chain_daily",
    "int_polygon__option_contract_terms",
    "int_polygon__option_strikes_daily",
    "int_polygon__option_max_pain",
    "int_polygon__option_positioning_daily",
    "int_polygon__options_stocks_joined",
    "int_polygon__dividends",
    "int_rates__treasury_curve",
    "int_options__pricing_inputs",
    "int_options__option_greeks_daily",
    "int_options__atm_iv_daily",
    "int_options__provenance",
}
# Relations whose earlier CCC rows change when CCC's split executes on NEW_DAY (split-adjusted values).
RESCALED_BY_SPLIT = {
    "intermediate.int_polygon__stock_bars_adjusted",
    "intermediate.int_polygon__stock_indicators",
    "intermediate.int_polygon__options_stocks_joined",
    "marts.mart_stock_daily",
    "marts.mart_polygon__options_stocks_joined",
}
MARTS = {
    "mart_polygon__options_stocks_joined",
    "mart_stock_daily",
    "mart_option_chain",
    "mart_vol_surface",
    "mart_options_positioning",
    "mart_options_oi_by_strike",
    "mart_options_max_pain",
    "mart_options_iv_rank",
    "mart_option_provenance",
}


def test_the_contracted_marts_are_the_published_ones(builds: Builds) -> None:
    """dbt's own view (configs resolved from every place they can be set): the enforced contracts and the
    `published` tag mark exactly the marts that publish copies (workflows/marts_contract.py)."""
    models = [r.node for r in builds.results["first"].result.results if r.node.resource_type == "model"]
    assert {n.name for n in models if n.config.contract.enforced} == MART_NAMES
    assert {n.name for n in models if "published" in n.tags} == MART_NAMES


def test_build_runs_every_model_test_and_unit_test(builds: Builds) -> None:
    results = builds.results["first"].result.results
    kinds: dict[str, int] = {}
    for r in results:
        kinds[r.node.resource_type] = kinds.get(r.node.resource_type, 0) + 1
        assert str(getattr(r.status, "value", r.status)) in {"success", "pass"}, r.node.name
    assert kinds["model"] == len(STAGING | INTERMEDIATE | MARTS)
    assert kinds["snapshot"] == 1
    assert kinds["unit_test"] >= 10
    assert kinds["test"] >= 80
    print(f"\ndbt seconds: {builds.seconds}; nodes: {kinds}")


def test_schemas_are_exactly_staging_intermediate_marts_snapshots(builds: Builds) -> None:
    rows = builds.project.query(
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_schema in ('staging', 'intermediate', 'marts', 'snapshots')"
    )
    found: dict[str, set[str]] = {}
    for schema, name, _ in rows:
        found.setdefault(schema, set()).add(name)
    assert found == {
        "staging": STAGING,
        "intermediate": INTERMEDIATE,
        "marts": MARTS,
        "snapshots": {"snap_polygon__option_contracts"},
    }
    # nothing leaked into the target's default schema
    assert not builds.project.query(
        "select table_name from information_schema.tables where table_schema = 'main'"
    )


def test_every_mart_row_says_where_its_data_came_from(builds: Builds) -> None:
    for name in MARTS:
        sources = builds.project.query(f"select distinct source from marts.{name}")
        assert sources == [("simulator",)], name


def test_marts_expose_no_lineage_columns(builds: Builds) -> None:
    """Re-running a day must leave the marts identical: no load or batch timestamps in them."""
    columns = builds.project.query(
        "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
    )
    assert {t for t, _ in columns} == MARTS
    assert [(t, c) for t, c in columns if c.startswith("_")] == []


def test_staging_keeps_the_newest_fetch_of_a_duplicated_day(builds: Builds) -> None:
    bars = builds.staging_after_first["stock_bars"]
    assert not bars.duplicated(["ticker", "trade_date"]).any()
    aaa = bars[(bars.ticker == "AAA") & (bars.trade_date == pd.Timestamp(DUP_DAY))]
    assert len(aaa) == 1
    assert aaa.close.iloc[0] == builds.market.raw_close("AAA", DUP_DAY)  # not the bad first fetch's 9999
    assert aaa._source_file.iloc[0].endswith("#rerun")
    raw = builds.project.query(
        f"select count(*) from raw.polygon_stock_bars where trade_date = '{DUP_DAY}' and record->>'T' = 'AAA'"
    )
    assert raw == [(2,)]


def test_option_bars_take_ticker_from_meta_and_day_from_t(builds: Builds) -> None:
    bars = builds.staging_after_first["option_bars"]
    assert set(bars.trade_date.dt.date) == {*BACKFILL_DAYS, OPTION_DAYS[0]}
    assert bars.option_ticker.str.match(r"^O:AAA\d{6}[CP]\d{8}$").all()


def test_split_adjustment_makes_history_continuous(builds: Builds) -> None:
    adj = builds.first["intermediate.int_polygon__stock_bars_adjusted"]
    bbb = adj[adj.ticker == "BBB"].set_index("trade_date")
    before, after = (
        bbb[bbb.index < pd.Timestamp(BBB_SPLIT_DAY)],
        bbb[bbb.index >= pd.Timestamp(BBB_SPLIT_DAY)],
    )
    assert (before.split_adjustment_factor == 0.5).all() and (after.split_adjustment_factor == 1).all()
    np.testing.assert_allclose(before.close_adj, before.close / 2, rtol=1e-9)
    np.testing.assert_allclose(before.volume_adj, before.volume * 2, rtol=1e-9)
    expected = [builds.market.path["BBB"][d.date()] for d in bbb.index]
    np.testing.assert_allclose(bbb.close_adj, expected, rtol=1e-6)
    # AAA's split executes after the last bar: announced, not applied.
    assert AAA_FUTURE_SPLIT_DAY > NEW_DAY
    assert (adj[adj.ticker == "AAA"].split_adjustment_factor == 1).all()


def test_indicators_match_an_independent_computation(builds: Builds) -> None:
    for tables in (builds.first, builds.incremental):
        ind = tables["intermediate.int_polygon__stock_indicators"]
        for ticker, g in ind.groupby("ticker"):
            closes = g.close_adj.reset_index(drop=True)
            log_ret = np.log(closes / closes.shift(1))
            for n in (20, 50, 200):
                expected = closes.rolling(n).mean()
                np.testing.assert_allclose(g[f"sma_{n}"], expected, rtol=1e-9, atol=1e-6, err_msg=ticker)
            vol = log_ret.rolling(20).std() * math.sqrt(252)
            np.testing.assert_allclose(g.realized_volatility_20d, vol, rtol=1e-6, atol=1e-7, err_msg=ticker)
            assert g.sma_200.isna().sum() == 199 and g.realized_volatility_20d.isna().sum() == 20


def test_option_chain_falls_back_to_bars_on_backfill_days(builds: Builds) -> None:
    chain = builds.first["intermediate.int_polygon__option_chain_daily"]
    origin = chain.groupby(chain.trade_date.dt.date).data_origin.agg(set).to_dict()
    for day in BACKFILL_DAYS:
        assert origin[day] == {"aggregates"}
    for day in OPTION_DAYS:
        assert origin[day] == {"snapshot"}  # the few bars on a snapshot day lose to the snapshot
    backfill = chain[chain.data_origin == "aggregates"]
    assert backfill.strike_price.notna().all() and backfill.open_interest.isna().all()
    assert (chain.strike_price == chain.occ_strike_price).all()
    assert (chain.expiration_date == chain.occ_expiration_date).all()


def test_positioning_handles_a_day_without_call_volume(builds: Builds) -> None:
    pos = builds.first["marts.mart_options_positioning"].set_index(["underlying", "trade_date"])
    row = pos.loc[("BBB", pd.Timestamp(OPTION_DAYS[-2]))]
    assert row.call_volume == 0 and row.put_volume > 0
    assert pd.isna(row.put_call_volume_ratio)
    assert pos.loc[("AAA", pd.Timestamp(LAST_DAY))].nearest_expiry_max_pain_strike > 0


def _strip_volatile(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["_batch_at"], errors="ignore").reset_index(drop=True)


@pytest.mark.parametrize("relation", sorted(COMPARED))
def test_incremental_equals_full_refresh(builds: Builds, relation: str) -> None:
    incremental = _strip_volatile(builds.incremental[relation])
    full = _strip_volatile(builds.full_refresh[relation])
    assert len(incremental) > 0
    pd.testing.assert_frame_equal(incremental, full, check_exact=True)


@pytest.mark.parametrize("relation", sorted(COMPARED))
def test_incremental_run_leaves_earlier_days_alone(builds: Builds, relation: str) -> None:
    """Rows of earlier days are unchanged, except the split-adjusted history of CCC (split on NEW_DAY)."""
    first, after = builds.first[relation], builds.incremental[relation]
    assert (after.trade_date.dt.date == NEW_DAY).any()
    assert (first.trade_date.dt.date < NEW_DAY).all()

    def kept(df: pd.DataFrame) -> pd.DataFrame:
        df = df[df.trade_date.dt.date < NEW_DAY]
        if relation in RESCALED_BY_SPLIT:
            underlying = df["ticker"] if "ticker" in df.columns else df["underlying"]
            df = df[underlying != "CCC"]
        # _loaded_at moves when a day's raw rows are re-ingested (same content); _batch_at on every write; and a
        # provenance row names the newest fetch, so a re-ingested day's lines, requests and loads move with it
        volatile = ["_batch_at", "_loaded_at", *(FETCH_LINEAGE if "provenance" in relation else ())]
        return df.drop(columns=volatile, errors="ignore").reset_index(drop=True)

    pd.testing.assert_frame_equal(kept(after), kept(first), check_exact=True)


def test_incremental_split_rescales_the_whole_history(builds: Builds) -> None:
    before = builds.first["marts.mart_stock_daily"].set_index(["ticker", "trade_date"])
    after = builds.incremental["marts.mart_stock_daily"].set_index(["ticker", "trade_date"])
    ccc_before = before.loc["CCC"]
    ccc_after = after.loc["CCC"].loc[ccc_before.index]
    np.testing.assert_allclose(ccc_after.close_adj, ccc_before.close_adj / 3, rtol=1e-6)
    np.testing.assert_allclose(ccc_after.sma_20, ccc_before.sma_20 / 3, rtol=1e-6)
    np.testing.assert_allclose(
        ccc_after.realized_volatility_20d, ccc_before.realized_volatility_20d, rtol=1e-5
    )
    assert (ccc_after.close == ccc_before.close).all()  # unadjusted prices never change
    joined = builds.incremental["marts.mart_polygon__options_stocks_joined"]
    ccc = joined[joined.underlying == "CCC"]
    np.testing.assert_allclose(ccc.underlying_close_adj, ccc.underlying_close / 3, rtol=1e-6)
