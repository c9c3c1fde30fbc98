"""The lake on a folder and on a real S3 API server: keys, parts, manifests written last and never twice."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from workflows.lake import (
    Lake,
    LakeError,
    ManifestExistsError,
    PartCorruptError,
    S3Storage,
    manifest_key,
    new_run_id,
    part_key,
)

DAY = dt.date(2026, 11, 24)


@pytest.fixture(params=["folder", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    if request.param == "folder":
        return Lake.open((tmp_path / "lake").as_uri())
    client, bucket = request.getfixturevalue("s3_bucket")
    return Lake(S3Storage(bucket, "prefix/smelt", client=client))


def _write(lake: Lake, run_id: str, rows: int, per_part: int = 4, underlying: str | None = "AAPL") -> Any:
    with lake.writer("option_snapshots", DAY, underlying, run_id, "simulator", rows_per_part=per_part) as w:
        for i in range(rows):
            w.write({"i": i, "details": {"ticker": f"O:X{i}"}}, endpoint="/v3/snapshot/options/{u}",
                    request_id=f"req-{i // per_part}", fetched_at="2026-11-24T21:00:00Z")  # fmt: skip
    return w.manifest


def test_keys_follow_the_contract() -> None:
    assert part_key("stock_bars", DAY, None, "R1", 3) == (
        "raw/polygon/stock_bars/dt=2026-11-24/part-00003-R1.ndjson.gz"
    )
    assert manifest_key("option_snapshots", DAY, "SPY", "R1") == (
        "raw/_manifests/option_snapshots/dt=2026-11-24/underlying=SPY/R1.json"
    )
    with pytest.raises(ValueError, match="unknown dataset 'stocks'"):
        part_key("stocks", DAY, None, "R1", 0)


def test_parts_rotate_and_manifest_lists_each_with_checksum(lake: Lake) -> None:
    manifest = _write(lake, new_run_id(), rows=10)
    assert [p.rows for p in manifest.parts] == [4, 4, 2]
    assert lake.manifest_keys("option_snapshots", DAY) == [manifest.key]
    stored = lake.read_manifest(manifest.key)
    assert stored == manifest
    lines = []
    for part in stored.parts:
        with lake.verified_part(part) as local:
            lines += gzip.decompress(local.read_bytes()).splitlines()
    records = [orjson.loads(line) for line in lines]
    assert [r["i"] for r in records] == list(range(10))
    meta = records[0]["_meta"]
    assert meta == {
        "source": "simulator", "endpoint": "/v3/snapshot/options/{u}", "request_id": "req-0",
        "fetched_at": "2026-11-24T21:00:00Z", "trade_date": "2026-11-24", "underlying": "AAPL",
    }  # fmt: skip


def test_manifest_is_never_overwritten(lake: Lake) -> None:
    run_id = new_run_id()
    first = _write(lake, run_id, rows=3)
    with pytest.raises(ManifestExistsError, match="never overwritten"):
        _write(lake, run_id, rows=5)
    assert lake.read_manifest(first.key).rows == 3


def test_rerun_writes_a_new_manifest_and_keeps_the_old_parts(lake: Lake) -> None:
    one, two = _write(lake, new_run_id(), rows=5), _write(lake, new_run_id(), rows=5)
    assert len(lake.manifest_keys("option_snapshots", DAY)) == 2
    assert not {p.key for p in one.parts} & {p.key for p in two.parts}
    for part in one.parts:  # the first run's files still match their manifest
        with lake.verified_part(part):
            pass


def test_failure_inside_writer_leaves_no_manifest(lake: Lake) -> None:
    with (
        pytest.raises(RuntimeError, match="boom"),
        lake.writer("stock_bars", DAY, None, new_run_id(), "simulator", rows_per_part=2) as w,
    ):
        for i in range(5):
            w.write({"T": f"T{i}"}, endpoint="/v2/aggs", request_id=None, fetched_at="x")
        raise RuntimeError("boom")
    assert lake.manifest_keys("stock_bars") == []


def test_empty_unit_gets_a_manifest_without_parts(lake: Lake) -> None:
    manifest = _write(lake, new_run_id(), rows=0)
    assert manifest.parts == () and lake.read_manifest(manifest.key).rows == 0


def test_truncated_part_is_detected_by_its_manifest_checksum(tmp_path: Path) -> None:
    lake = Lake.open((tmp_path / "lake").as_uri())
    manifest = _write(lake, new_run_id(), rows=8, per_part=100)
    path = tmp_path / "lake" / manifest.parts[0].key
    path.write_bytes(path.read_bytes()[:-20])
    with (
        pytest.raises(PartCorruptError, match=r"part-00000-.*does not match its manifest"),
        lake.verified_part(manifest.parts[0]),
    ):
        pass


def test_truncated_part_on_s3_is_detected(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    lake = Lake(S3Storage(bucket, "", client=client))
    manifest = _write(lake, new_run_id(), rows=8, per_part=100)
    key = manifest.parts[0].key
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    client.put_object(Bucket=bucket, Key=key, Body=body[: len(body) // 2])
    with pytest.raises(PartCorruptError, match="truncated or altered"), lake.verified_part(manifest.parts[0]):
        pass


def test_s3_conditional_write_refusal_is_raised_as_manifest_exists(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    storage = S3Storage(bucket, "p", client=client)
    storage.put_exclusive("raw/_manifests/x.json", b"{}")
    with pytest.raises(ManifestExistsError, match=r"s3://.*/p/raw/_manifests/x.json already exists"):
        storage.put_exclusive("raw/_manifests/x.json", b'{"other": 1}')
    assert client.get_object(Bucket=bucket, Key="p/raw/_manifests/x.json")["Body"].read() == b"{}"


def test_bad_urls_and_missing_keys_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not supported"):
        Lake.open("gs://bucket/x")
    with pytest.raises(ValueError, match="no bucket"):
        Lake.open("s3:///x")
    lake = Lake.open(tmp_path.as_uri())
    with pytest.raises(LakeError, match="does not exist"):
        lake.read_manifest("raw/_manifests/stock_bars/dt=2026-11-24/nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(LakeError, match=r"bad\.json is unreadable"):
        lake.read_manifest("bad.json")
