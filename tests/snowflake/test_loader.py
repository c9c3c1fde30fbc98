"""The Snowflake loader against fakesnow's server with the real connector: it creates, loads, skips,
rejects corrupt parts and leaves nothing of a failed manifest; a killed load reloads cleanly."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.snowflake.conftest import ROOT
from tests.warehouse.conftest import DAY, DAY_PLAN, hand_manifest, write_day
from workflows.lake import Lake, S3Storage
from workflows.settings import SettingsError, load_settings
from workflows.warehouse import load, open_warehouse
from workflows.warehouse.snowflake import SnowflakeConfigError, SnowflakeWarehouse, explain

pytestmark = pytest.mark.snowflake


def landed(query: Callable[..., list[tuple[Any, ...]]], dataset: str) -> list[tuple[Any, ...]]:
    return query(f"select source_file, source_row, record from raw.polygon_{dataset} order by 1, 2")


def test_loader_creates_landing_tables_and_loads_a_folder_lake_day(
    warehouse: SnowflakeWarehouse, folder_lake: Lake, query: Callable[..., Any]
) -> None:
    manifests = write_day(folder_lake)
    report = load(warehouse, folder_lake, DAY)
    report.raise_for_failures()
    assert len(report.loaded) == len(DAY_PLAN) and report.rows == sum(p[2] for p in DAY_PLAN)

    tables = {
        r[0] for r in query("select table_name from information_schema.tables where table_schema = 'RAW'")
    }
    assert {"POLYGON_STOCK_BARS", "POLYGON_OPTION_SNAPSHOTS", "SMELT_LOADS"} <= tables
    for manifest in manifests.values():
        expected = [(p.key, n) for p in manifest.parts for n in range(1, p.rows + 1)]
        mine = sorted(
            (f, n) for f, n, _ in landed(query, manifest.dataset) if f in {p.key for p in manifest.parts}
        )
        assert mine == expected, manifest.key
    # Each line kept verbatim: the awkward values (20-digit integer, unicode, nesting) survive.
    record = json.loads(landed(query, "stock_bars")[0][2])
    assert record["big"] == 12345678901234567890 and record["text"].startswith("café")
    assert record["_meta"]["trade_date"] == DAY.isoformat()
    ledger = query('select manifest_key, files, "ROWS" from raw.smelt_loads order by 1')
    assert [(k, f, r) for k, f, r in ledger] == sorted(
        (m.key, len(m.parts), m.rows) for m in manifests.values()
    )
    # The folder lake's parts went through the internal stage, which COPY's PURGE left empty.
    assert query("list @raw.lake_uploads") == []


def test_a_loaded_manifest_is_skipped(
    warehouse: SnowflakeWarehouse, folder_lake: Lake, query: Callable[..., Any]
) -> None:
    write_day(folder_lake)
    load(warehouse, folder_lake, DAY).raise_for_failures()
    before = query("select count(*) from raw.polygon_option_snapshots")
    again = load(warehouse, folder_lake, DAY)
    assert len(again.skipped) == len(DAY_PLAN) and not again.loaded
    assert query("select count(*) from raw.polygon_option_snapshots") == before


def test_s3_lake_loads_with_one_copy_per_manifest(
    warehouse: SnowflakeWarehouse, s3_bucket: tuple[Any, str], tmp_path: Path, query: Callable[..., Any]
) -> None:
    """fakesnow cannot read S3 (DuckDB's httpfs is not installable here), so the external stage points at
    a local copy of the bucket; the loader still verifies every part from S3 and COPYs from @RAW.LAKE."""
    client, bucket = s3_bucket
    lake = Lake(S3Storage(bucket, "lake/prefix", client=client))
    manifests = write_day(lake)
    mirror = tmp_path / "mirror"
    for key in lake.storage.list_keys("raw/"):
        (mirror / key).parent.mkdir(parents=True, exist_ok=True)
        (mirror / key).write_bytes(lake.storage.get_bytes(key))
    query(f"create or replace stage raw.lake url = '{(mirror / 'raw' / 'polygon').as_uri()}/'")

    with capture_logs() as events:
        report = load(warehouse, lake, DAY)
    report.raise_for_failures()
    assert report.rows == sum(m.rows for m in manifests.values())
    sent = {e["manifest"]: e["statements"] for e in events if e["event"] == "transaction statements"}
    for manifest in manifests.values():
        kinds = sent[manifest.key]
        assert kinds.count("COPY") == (1 if manifest.parts else 0) and "PUT" not in kinds, kinds
        assert kinds == ["BEGIN", "INSERT", *(["COPY"] if manifest.parts else []), "COMMIT"]


def test_a_corrupted_part_is_rejected_and_nothing_of_its_manifest_stays(
    warehouse: SnowflakeWarehouse, folder_lake: Lake, query: Callable[..., Any]
) -> None:
    manifests = write_day(folder_lake)
    victim = next(m for m in manifests.values() if m.dataset == "option_snapshots" and len(m.parts) > 1)
    path = folder_lake.storage.local_path(victim.parts[1].key)
    assert path is not None
    path.write_bytes(gzip.compress(b'{"altered": true}\n' * victim.parts[1].rows))

    report = load(warehouse, folder_lake, DAY)
    [failed] = report.failed
    assert failed.key == victim.key and victim.parts[1].key in (failed.message or "")
    assert "does not match its manifest" in (failed.message or "") and not failed.retryable
    files = {p.key for p in victim.parts}
    assert not [r for r in landed(query, "option_snapshots") if r[0] in files]
    assert query("select count(*) from raw.smelt_loads where manifest_key = %s", [victim.key]) == [(0,)]
    assert len(report.loaded) == len(DAY_PLAN) - 1


def test_a_row_count_mismatch_fails_the_manifest_naming_its_file(
    warehouse: SnowflakeWarehouse, folder_lake: Lake, query: Callable[..., Any]
) -> None:
    """Valid gzip with the checksum the manifest lists, but one line more than it says: COPY's count wins."""
    body = gzip.compress(b'{"a": 1}\n{"a": 2}\n{"a": 3}\n')
    manifest = hand_manifest(folder_lake, "stock_bars", None, [body], [2])
    report = load(warehouse, folder_lake, DAY)
    [failed] = report.failed
    assert manifest.parts[0].key in (failed.message or "") and "holds 3 lines but its manifest says 2" in (
        failed.message or ""
    )
    assert query("select count(*) from raw.polygon_stock_bars") == [(0,)]
    assert query("select count(*) from raw.smelt_loads") == [(0,)]


def test_a_key_claimed_meanwhile_by_another_loader_is_skipped(
    warehouse: SnowflakeWarehouse, folder_lake: Lake, query: Callable[..., Any]
) -> None:
    """The day's ledger check passed, then another loader committed the manifest: the claim finds its row,
    the COPY is rolled back, and the manifest is reported skipped, not loaded twice."""
    manifests = write_day(folder_lake)
    bars = next(m for m in manifests.values() if m.dataset == "stock_bars")
    warehouse.ensure_landing()
    loaded_keys, calls = warehouse.loaded_keys, []

    def day_check_before_the_other_commit(keys: Any) -> set[str]:
        calls.append(keys)
        return set() if len(calls) == 1 else loaded_keys(keys)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(warehouse, "loaded_keys", day_check_before_the_other_commit)
        query(
            'insert into raw.smelt_loads (manifest_key, dataset, trade_date, files, "ROWS", sha256, loaded_at) '
            "select %s, 'stock_bars', %s::date, 1, 0, 'x', current_timestamp()",
            [bars.key, DAY.isoformat()],
        )
        report = load(warehouse, folder_lake, DAY, ["stock_bars"])
    [result] = report.results
    assert result.status == "skipped" and "concurrently" in (result.message or "")
    assert query("select count(*) from raw.polygon_stock_bars") == [(0,)]


def test_load_history_guards_a_manifest_whose_ledger_row_was_deleted(
    warehouse: SnowflakeWarehouse, folder_lake: Lake, query: Callable[..., Any]
) -> None:
    manifests = write_day(folder_lake)
    load(warehouse, folder_lake, DAY).raise_for_failures()
    bars = next(m for m in manifests.values() if m.dataset == "stock_bars")
    query("delete from raw.smelt_loads where manifest_key = %s", [bars.key])

    report = load(warehouse, folder_lake, DAY)
    [failed] = report.failed
    assert "load history" in (failed.message or "") and bars.parts[0].key in (failed.message or "")
    assert query("select count(*) from raw.polygon_stock_bars") == [(bars.rows,)]


_KILLED_LOADER = """
import os, signal, sys
from workflows.lake import Lake
from workflows.settings import load_settings
from workflows.warehouse import load, open_warehouse
from workflows.warehouse.snowflake import _Transaction

execute = _Transaction.execute

def die_before_commit(self, sql, params=None):
    if sql == "COMMIT" and "COPY" in self.statements:
        os.kill(os.getpid(), signal.SIGKILL)  # between the COPY and the commit, as a node loss would
    return execute(self, sql, params)

_Transaction.execute = die_before_commit
with open_warehouse(load_settings()) as wh:
    load(wh, Lake.open(sys.argv[1]), __import__("datetime").date.fromisoformat(sys.argv[2]), ["stock_bars"])
"""


def test_an_interrupted_load_reloads_cleanly(
    env: dict[str, str], warehouse: SnowflakeWarehouse, folder_lake: Lake, query: Callable[..., Any]
) -> None:
    manifests = write_day(folder_lake)
    bars = next(m for m in manifests.values() if m.dataset == "stock_bars")
    warehouse.ensure_landing()
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_KILLED_LOADER), folder_lake.url,
         DAY.isoformat()],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert query("select count(*) from raw.polygon_stock_bars") == [(0,)]
    assert query("select count(*) from raw.smelt_loads") == [(0,)]

    report = load(warehouse, folder_lake, DAY, ["stock_bars"])
    report.raise_for_failures()
    assert [r.key for r in report.loaded] == [bars.key]
    assert query(
        "select count(*), count(distinct source_file || ':' || source_row) from raw.polygon_stock_bars"
    ) == [(bars.rows, bars.rows)]


def test_steps_load_runs_on_snowflake_and_reports_the_query_tag_session(
    env: dict[str, str], folder_lake: Lake
) -> None:
    from workflows import steps

    write_day(folder_lake)
    settings = load_settings(lake_url=folder_lake.url)
    report = steps.load(steps.Resources.from_settings(settings), DAY)
    assert report.warehouse == "snowflake" and len(report.loaded) == len(DAY_PLAN)


def test_settings_name_what_snowflake_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMELT_WAREHOUSE", "snowflake")
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "xy12345")
    with pytest.raises(SettingsError, match="SNOWFLAKE_USER, SNOWFLAKE_PRIVATE_KEY_PATH, SNOWFLAKE_DATABASE"):
        load_settings()


def test_a_missing_or_unreadable_key_says_so(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_PATH", str(tmp_path / "absent.p8"))
    with pytest.raises(SnowflakeConfigError, match="does not exist: mount the key's Secret there"):
        open_warehouse(load_settings())
    (tmp_path / "bad.p8").write_text("not a key")
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_PATH", str(tmp_path / "bad.p8"))
    with pytest.raises(SnowflakeConfigError, match="is not a PEM private key"):
        open_warehouse(load_settings())


@pytest.mark.parametrize(
    ("snowflake_says", "smelt_says"),
    [
        ("390144 (08004): JWT token is invalid.", "does not match a public key of SNOWFLAKE_USER=SMELT_LOADER_SVC"),
        ("250001 (08001): Role 'SMELT_LODER' specified in the connect string does not exist or not authorized.",
         "SNOWFLAKE_ROLE=SMELT_LOADER does not exist or is not granted"),
        ("000606 (57P03): No active warehouse selected in the current session.",
         "SNOWFLAKE_WAREHOUSE=SMELT_LOAD_WH does not exist or SNOWFLAKE_ROLE=SMELT_LOADER has no USAGE"),
        ("000630 (57014): Warehouse 'SMELT_LOAD_WH' cannot be resumed because resource monitor 'SMELT_MONTHLY' "
         "has exceeded its quota.", "suspended by its resource monitor"),
        ("003001 (42501): SQL access control error: Insufficient privileges to operate on table 'SMELT_LOADS'",
         "lacks a grant this step needs: run snowflake/grants.sql"),
        ("002003 (02000): SQL compilation error: Stage 'SMELT.RAW.LAKE' does not exist or not authorized.",
         "run snowflake/setup.sql, then snowflake/grants.sql"),
    ],
)  # fmt: skip
def test_each_misconfiguration_gets_a_message_that_says_what_to_fix(
    warehouse: SnowflakeWarehouse, snowflake_says: str, smelt_says: str
) -> None:
    """Snowflake's messages for each misconfiguration (fakesnow accepts any role, warehouse or key), raised by
    the connector or quoted in a dbt failure."""
    message = explain(_connector_error(snowflake_says), warehouse.connect_args)
    assert smelt_says in message and message.startswith(snowflake_says.split(":")[0])
    assert explain(f"Database Error in model x: {snowflake_says}", warehouse.connect_args).endswith(
        message.split(" -- ")[1]
    )


def test_a_misconfiguration_is_known_by_its_error_code_not_its_words(warehouse: SnowflakeWarehouse) -> None:
    """A reworded message still gets its advice; the same words under another error code do not."""
    reworded = _connector_error("003001 (42501): The role may not do this to SMELT_LOADS.")
    assert "lacks a grant this step needs" in explain(reworded, warehouse.connect_args)
    other = _connector_error("100038 (22018): Numeric value 'Insufficient privileges' is not recognized")
    assert " -- " not in explain(other, warehouse.connect_args)


def _connector_error(says: str) -> Exception:
    """The error as the connector raises it: Snowflake's error number and SQLSTATE as attributes, which its
    text starts with. The text is given whole: the connector's own formatting adds the query id when its
    logger is at INFO (as an earlier test may leave it), which is not what these tests are about."""
    from snowflake.connector.errors import ProgrammingError

    code, state = re.match(r"(\d{6}) \((\w{5})\): ", says).groups()  # type: ignore[union-attr]
    error = ProgrammingError(msg=says, errno=int(code), sqlstate=state, done_format_msg=True)
    assert str(error) == says
    return error


def test_summary_reads_table_sizes_from_snowflake(warehouse: SnowflakeWarehouse, folder_lake: Lake) -> None:
    write_day(folder_lake)
    load(warehouse, folder_lake, DAY).raise_for_failures()
    stats = {s.table: s.rows for s in warehouse.table_stats(["raw"])}
    assert stats["polygon_option_snapshots"] == 15 and stats["smelt_loads"] == len(DAY_PLAN)
