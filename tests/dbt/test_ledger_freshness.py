"""Freshness judged from the ledger (a transform with nothing new runs no dbt): the project's own rules, read from
its YAML as dbt resolves them, and the same verdicts and messages as dbt's results give."""

from __future__ import annotations

import datetime as dt

from tests.dbt.support import DBT_DIR
from workflows.freshness import judge_ledger, rules

NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)


def test_rules_follow_the_sources_yaml() -> None:
    found = {rule.source: rule for rule in rules(DBT_DIR)}
    # tables with `freshness: null` have no rule; the ledger's own rule covers every dataset
    assert "polygon.polygon_stock_splits" not in found and "polygon.polygon_option_greeks" not in found
    assert found["polygon.smelt_loads"].dataset is None
    bars = found["polygon.polygon_stock_bars"]
    assert (bars.dataset, bars.warn_after, bars.error_after) == ("stock_bars", 96 * 3600.0, 168 * 3600.0)


def test_verdicts_pass_warn_fail_and_skip_what_is_not_expected() -> None:
    newest = {
        "stock_bars": NOW - dt.timedelta(days=10),  # a week and more: error
        "option_contracts": NOW - dt.timedelta(hours=100),  # past 96 hours: warn
        "option_snapshots": NOW - dt.timedelta(hours=20),
        "treasury_yields": NOW - dt.timedelta(hours=20),
    }  # no option_bars at all: a history without backfills
    verdicts = {v.source: v for v in judge_ledger(rules(DBT_DIR), newest, NOW)}
    assert verdicts["polygon.polygon_stock_bars"].status == "error"
    assert verdicts["polygon.polygon_stock_bars"].message == (
        "source polygon.polygon_stock_bars: newest row loaded 2026-11-13 14:00 UTC, 240.0 hours (10.0 days) old; "
        "threshold: warn after 96 hours, error after 168 hours"
    )
    assert verdicts["polygon.polygon_option_contracts"].status == "warn"
    assert verdicts["polygon.polygon_option_snapshots"].status == "pass"
    assert verdicts["polygon.polygon_option_bars"].status == "skipped"
    assert verdicts["polygon.smelt_loads"].status == "pass"  # the newest load of any dataset


def test_a_required_source_without_loads_fails() -> None:
    verdicts = {v.source: v for v in judge_ledger(rules(DBT_DIR), {"option_snapshots": NOW}, NOW)}
    assert verdicts["polygon.polygon_stock_bars"].status == "error"
    assert "no rows at all" in verdicts["polygon.polygon_stock_bars"].message


def test_stock_bars_from_flat_files_stand_in_for_the_rest_bars() -> None:
    """A history built from flat files has day aggregates and no REST grouped bars: judged by those instead."""
    newest = {"stock_day_aggs": NOW - dt.timedelta(hours=20), "option_snapshots": NOW}
    verdicts = {v.source: v for v in judge_ledger(rules(DBT_DIR), newest, NOW)}
    assert verdicts["polygon.polygon_stock_bars"].status == "skipped"
    assert "polygon_stock_day_aggs has its data" in verdicts["polygon.polygon_stock_bars"].message
    assert verdicts["polygon.polygon_stock_day_aggs"].status == "pass"
