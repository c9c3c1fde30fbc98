"""Loading a day from a folder lake into DuckDB: counts, verbatim values, lineage, the ledger, failures."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from workflows import logs
from workflows.lake import Lake, Manifest
from workflows.warehouse import (
    LANDING_TABLES,
    DuckDBWarehouse,
    LoadError,
    ManifestLoadError,
    landing_table,
    load,
)

Query = Callable[..., list[tuple[Any, ...]]]
WriteDay = Callable[..., dict[str, Manifest]]
HandManifest = Callable[..., Manifest]


def rows_by_table(query: Query) -> dict[str, int]:
    return {ds: query(f"SELECT count(*) FROM {table}")[0][0] for ds, table in LANDING_TABLES.items()}


def expected_by_table(manifests: dict[str, Manifest]) -> dict[str, int]:
    counts = dict.fromkeys(LANDING_TABLES, 0)
    for m in manifests.values():
        counts[m.dataset] += m.rows
    return counts


def part_lines(lake: Lake, key: str) -> list[str]:
    # Split on "\n" only: str.splitlines() would also split inside a record at U+2028.
    return [line.decode() for line in gzip.decompress(lake.storage.get_bytes(key)).split(b"\n")[:-1]]


def test_load_once_matches_manifests_verbatim_and_in_file_order(
    folder_lake: Lake, warehouse: DuckDBWarehouse, query: Query, write_day: WriteDay, day: dt.date
) -> None:
    manifests = write_day(folder_lake)

    report = load(warehouse, folder_lake, day)

    assert report.ok and not report.skipped
    assert len(report.loaded) == len(manifests) == 7
    assert report.rows == sum(m.rows for m in manifests.values()) == 35
    assert report.files == sum(len(m.parts) for m in manifests.values())
    assert report.bytes == sum(m.bytes for m in manifests.values())
    assert rows_by_table(query) == expected_by_table(manifests)

    for manifest in manifests.values():
        table = landing_table(manifest.dataset)
        for part in manifest.parts:
            got = query(
                f"SELECT source_row, record::VARCHAR, trade_date, underlying FROM {table} "
                "WHERE source_file = ? ORDER BY source_row",
                [part.key],
            )
            lines = part_lines(folder_lake, part.key)
            # source_row is the 1-based line number, and record is the line itself, byte for byte.
            assert [(r[0], r[1]) for r in got] == list(enumerate(lines, start=1))
            assert {(r[2], r[3]) for r in got} == {(day, manifest.underlying)}

    # Values survive untouched: a 20-digit integer, floats, unicode with escapes, nested objects, _meta.
    row = query(
        "SELECT record->>'$.big', (record->>'$.price')::DOUBLE, record->>'$.text', record->>'$.nested.list[2]', "
        "record->>'$._meta.underlying', record->>'$._meta.source', record->>'$.seq', source_row "
        f"FROM {landing_table('option_snapshots')} WHERE underlying = 'AAPL' AND record->>'$.seq' = '6'"
    )
    assert row == [
        (
            "12345678901234567890",
            120.73 + 6,
            'café \u2028 é "quoted" \\ back',
            "6",
            "AAPL",
            "simulator",
            "6",
            2,
        )
    ]
    # With 4 rows a part, sequence n sits in part (n-1)//4 at line (n-1)%4+1.
    lineage = query(
        f"SELECT (record->>'$.seq')::INT, source_file, source_row FROM {landing_table('stock_bars')} ORDER BY 1"
    )
    assert [(seq, f.split("/")[-1][:10], r) for seq, f, r in lineage] == [
        (n, f"part-{(n - 1) // 4:05d}", (n - 1) % 4 + 1) for n in range(1, 11)
    ]


def test_ledger_records_each_manifest_with_its_sha256(
    folder_lake: Lake, warehouse: DuckDBWarehouse, query: Query, write_day: WriteDay, day: dt.date
) -> None:
    manifests = write_day(folder_lake)
    load(warehouse, folder_lake, day)

    ledger = query("SELECT manifest_key, dataset, trade_date, files, rows, sha256 FROM raw.smelt_loads")
    assert sorted(ledger) == sorted(
        (
            key,
            m.dataset,
            day,
            len(m.parts),
            m.rows,
            hashlib.sha256(folder_lake.storage.get_bytes(key)).hexdigest(),
        )
        for key, m in manifests.items()
    )
    # Rows and their ledger row carry the same load time.
    stamps = query(
        f"SELECT DISTINCT l.loaded_at = t.loaded_at FROM {landing_table('stock_bars')} t "
        "JOIN raw.smelt_loads l ON l.dataset = 'stock_bars'"
    )
    assert stamps == [(True,)]


def test_load_again_skips_everything_and_adds_nothing(
    folder_lake: Lake, warehouse: DuckDBWarehouse, query: Query, write_day: WriteDay, day: dt.date
) -> None:
    manifests = write_day(folder_lake)
    load(warehouse, folder_lake, day)
    before = rows_by_table(query)

    again = load(warehouse, folder_lake, day)

    assert again.ok and not again.loaded
    assert len(again.skipped) == len(manifests)
    assert again.rows == 0
    assert rows_by_table(query) == before
    assert query("SELECT count(*), count(DISTINCT manifest_key) FROM raw.smelt_loads") == [(7, 7)]


def test_a_manifest_whose_claim_finds_it_in_the_ledger_is_skipped(
    folder_lake: Lake, warehouse: DuckDBWarehouse, query: Query, write_day: WriteDay
) -> None:
    """Loading one manifest again, past the day's ledger check: the claim says it lost, nothing is added."""
    key = next(iter(write_day(folder_lake)))
    assert warehouse.load_manifest(folder_lake, key).status == "loaded"
    before = rows_by_table(query)

    again = warehouse.load_manifest(folder_lake, key)

    assert again.status == "skipped" and again.rows == 0 and "already in the ledger" in (again.message or "")
    assert rows_by_table(query) == before


def test_empty_manifest_loads_as_zero_rows_and_is_recorded(
    folder_lake: Lake, warehouse: DuckDBWarehouse, query: Query, write_day: WriteDay, day: dt.date
) -> None:
    manifests = write_day(folder_lake)
    empty = next(m for m in manifests.values() if not m.parts)

    report = load(warehouse, folder_lake, day, datasets=["option_contracts"])

    result = next(r for r in report.results if r.key == empty.key)
    assert (result.status, result.files, result.rows, result.underlying) == ("loaded", 0, 0, "SPY")
    assert query("SELECT files, rows FROM raw.smelt_loads WHERE manifest_key = ?", [empty.key]) == [(0, 0)]
    assert query(f"SELECT count(*) FROM {landing_table('option_contracts')} WHERE underlying = 'SPY'") == [
        (0,)
    ]


def test_datasets_filter_and_days_without_manifests(
    folder_lake: Lake, warehouse: DuckDBWarehouse, query: Query, write_day: WriteDay, day: dt.date
) -> None:
    write_day(folder_lake)

    only = load(warehouse, folder_lake, day, datasets=["stock_bars"])
    nothing = load(warehouse, folder_lake, day + dt.timedelta(days=1))

    assert [r.dataset for r in only.results] == ["stock_bars"]
    assert query("SELECT DISTINCT dataset FROM raw.smelt_loads") == [("stock_bars",)]
    assert nothing.ok and nothing.results == ()
    with pytest.raises(ValueError, match="unknown dataset"):
        load(warehouse, folder_lake, day, datasets=["quotes"])


def test_truncated_part_fails_only_its_manifest(
    folder_lake: Lake, warehouse: DuckDBWarehouse, query: Query, write_day: WriteDay, day: dt.date
) -> None:
    manifests = write_day(folder_lake)
    victim = next(m for m in manifests.values() if m.dataset == "option_snapshots" and m.underlying == "AAPL")
    broken = victim.parts[1]
    path = folder_lake.storage.local_path(broken.key)
    assert path is not None
    path.write_bytes(path.read_bytes()[: broken.bytes // 2])  # after the manifest was written

    report = load(warehouse, folder_lake, day)

    assert [r.key for r in report.failed] == [victim.key]
    message = report.failed[0].message or ""
    assert f"{folder_lake.url}/{broken.key}" in message
    assert "does not match its manifest" in message
    assert "option_snapshots AAPL for 2026-01-05" in message
    # Nothing of the failed manifest, not even its intact first part; everything else loaded.
    assert query(f"SELECT count(*) FROM {landing_table('option_snapshots')} WHERE underlying = 'AAPL'") == [
        (0,)
    ]
    assert query("SELECT count(*) FROM raw.smelt_loads WHERE manifest_key = ?", [victim.key]) == [(0,)]
    assert len(report.loaded) == len(manifests) - 1
    expected = expected_by_table(manifests)
    expected["option_snapshots"] -= victim.rows
    assert rows_by_table(query) == expected
    with pytest.raises(LoadError, match=r"1 of 7 manifests for 2026-01-05 failed") as raised:
        report.raise_for_failures()
    assert broken.key in str(raised.value)


CORRUPT = {
    "truncated gzip": (gzip.compress(b"".join(b'{"a":%d}\n' % i for i in range(5000)))[:4000], 5000, "GZIP"),
    "not gzip at all": (b'{"a":1}\n', 1, "GZIP"),
    "invalid JSON line": (gzip.compress(b'{"a":1}\n{"a":2,\n{"a":3}\n'), 3, "Malformed JSON"),
    "fewer lines than the manifest": (
        gzip.compress(b'{"a":1}\n{"a":2}\n'),
        3,
        "holds 2 lines but its manifest says 3",
    ),
}


@pytest.mark.parametrize("case", CORRUPT, ids=list(CORRUPT))
def test_bad_part_with_matching_checksum_fails_cleanly(
    case: str,
    folder_lake: Lake,
    warehouse: DuckDBWarehouse,
    query: Query,
    write_day: WriteDay,
    hand_manifest: HandManifest,
    day: dt.date,
) -> None:
    body, rows, cause = CORRUPT[case]
    manifests = write_day(folder_lake)
    good = gzip.compress(b'{"a":0}\n')
    bad = hand_manifest(folder_lake, "option_bars", "MSFT", [good, body], [1, rows])

    report = load(warehouse, folder_lake, day)

    assert [r.key for r in report.failed] == [bad.key]
    message = report.failed[0].message or ""
    assert f"{folder_lake.url}/{bad.parts[1].key}" in message
    assert cause in message
    assert "cannot load option_bars MSFT for 2026-01-05" in message
    assert message.count(bad.parts[1].key) == 1  # named once, by its lake URL, not again by a local path
    assert query(f"SELECT count(*) FROM {landing_table('option_bars')} WHERE underlying = 'MSFT'") == [(0,)]
    assert query("SELECT count(*) FROM raw.smelt_loads WHERE manifest_key = ?", [bad.key]) == [(0,)]
    assert len(report.loaded) == len(manifests)


def test_load_manifest_raises_for_a_single_bad_manifest(
    folder_lake: Lake, warehouse: DuckDBWarehouse, hand_manifest: HandManifest
) -> None:
    bad = hand_manifest(folder_lake, "stock_bars", None, [b"nope"], [1])
    with pytest.raises(
        ManifestLoadError, match=r"cannot load stock_bars for 2026-01-05: .* is not valid gzip"
    ):
        warehouse.load_manifest(folder_lake, bad.key)


def test_manifest_stored_under_another_key_is_refused(
    folder_lake: Lake, warehouse: DuckDBWarehouse, write_day: WriteDay, day: dt.date
) -> None:
    manifests = write_day(folder_lake)
    original = next(iter(manifests))
    moved = original.replace("dt=2026-01-05", "dt=2026-01-06")
    folder_lake.storage.put_exclusive(moved, folder_lake.storage.get_bytes(original))

    report = load(warehouse, folder_lake, day + dt.timedelta(days=1))

    assert [r.key for r in report.failed] == [moved]
    assert "moved or edited" in (report.failed[0].message or "")


def test_one_log_line_per_manifest_and_a_summary(
    folder_lake: Lake, warehouse: DuckDBWarehouse, write_day: WriteDay, day: dt.date
) -> None:
    manifests = write_day(folder_lake)
    with capture_logs() as events:
        load(warehouse, folder_lake, day)
        load(warehouse, folder_lake, day)

    per_manifest = [e for e in events if e["event"].startswith("manifest ")]
    assert [e["event"] for e in per_manifest] == ["manifest loaded"] * 7 + ["manifest skipped"] * 7
    first = next(e for e in per_manifest if e["manifest"] == next(iter(manifests)))
    assert {"dataset", "trade_date", "underlying", "files", "rows", "bytes", "seconds"} <= first.keys()
    summaries = [e for e in events if e["event"] == "load finished"]
    assert [(s["loaded"], s["skipped"], s["failed"], s["rows"]) for s in summaries] == [
        (7, 0, 0, 35),
        (0, 7, 0, 0),
    ]


def test_landing_ddl_is_idempotent_and_shaped_as_documented(db_path: Path) -> None:
    for _ in range(2):
        with DuckDBWarehouse(db_path) as wh:
            wh.ensure_landing()
            wh.ensure_landing()
    import duckdb

    with duckdb.connect(str(db_path)) as con:
        columns = con.execute(
            "SELECT table_name, list(column_name || ' ' || data_type ORDER BY ordinal_position) "
            "FROM information_schema.columns WHERE table_schema = 'raw' GROUP BY 1 ORDER BY 1"
        ).fetchall()
    landing = [
        "record JSON",
        "trade_date DATE",
        "underlying VARCHAR",
        "source_file VARCHAR",
        "source_row BIGINT",
        "loaded_at TIMESTAMP WITH TIME ZONE",
    ]
    flatfile = [
        "ticker VARCHAR", "volume BIGINT", "open DOUBLE", "close DOUBLE", "high DOUBLE", "low DOUBLE",
        "window_start BIGINT", "transactions BIGINT", "trade_date DATE", "source VARCHAR", "source_file VARCHAR",
        "source_row BIGINT", "source_etag VARCHAR", "source_last_modified TIMESTAMP WITH TIME ZONE",
        "loaded_at TIMESTAMP WITH TIME ZONE",
    ]  # fmt: skip
    assert dict(columns) == {
        **{table.removeprefix("raw."): landing for table in LANDING_TABLES.values()},
        "polygon_stock_day_aggs": flatfile,
        "polygon_option_day_aggs": flatfile,
        "smelt_loads": [
            "manifest_key VARCHAR",
            "dataset VARCHAR",
            "trade_date DATE",
            "files INTEGER",
            "rows BIGINT",
            "sha256 VARCHAR",
            "loaded_at TIMESTAMP WITH TIME ZONE",
        ],
    }


def test_source_row_is_the_line_number_across_reader_buffers(
    folder_lake: Lake, warehouse: DuckDBWarehouse, query: Query, hand_manifest: HandManifest, day: dt.date
) -> None:
    # ~40 MB of text: more than one buffer of DuckDB's JSON reader, which may parse buffers in parallel.
    lines = 400_000
    pad = "x" * 80
    body = gzip.compress(
        b"".join(b'{"n":%d,"pad":"%s"}\n' % (n, pad.encode()) for n in range(1, lines + 1)), 1
    )
    manifest = hand_manifest(folder_lake, "option_bars", "SPY", [body], [lines])

    load(warehouse, folder_lake, day)

    assert query(
        f"SELECT count(*), count(*) FILTER (WHERE (record->>'$.n')::BIGINT <> source_row), max(source_row) "
        f"FROM {landing_table('option_bars')} WHERE source_file = ?",
        [manifest.parts[0].key],
    ) == [(lines, 0, lines)]


def test_manifest_log_lines_keep_the_step_context_across_worker_threads(
    folder_lake: Lake, warehouse: DuckDBWarehouse, write_day: WriteDay, day: dt.date
) -> None:
    write_day(folder_lake)
    stream = io.StringIO()
    saved, root = structlog.get_config(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        logs.configure(fmt="json", level="info", stream=stream)
        with logs.bound(run_id="run-42", step="load"):
            load(warehouse, folder_lake, day, workers=3)
    finally:
        structlog.configure(**saved)
        root.handlers[:], root.level = handlers, level

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    manifest_lines = [e for e in lines if e["event"] == "manifest loaded"]
    assert len(manifest_lines) == 7
    assert {(e["run_id"], e["step"], e["level"]) for e in manifest_lines} == {("run-42", "load", "info")}
