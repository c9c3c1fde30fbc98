"""``smelt ingest flatfiles`` against an S3 server (moto, server mode, keys checked): each object lands
verbatim with its origin, once per ETag, and anything missing, short or refused fails clearly, landing nothing."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.flatfiles.support import SIM_NOW, Endpoint, flatfile_settings, s3
from workflows import calendar
from workflows.cli import app
from workflows.flatfiles import HEADER, published_at, vendor_key
from workflows.lake import Lake
from workflows.steps import Resources, StepError, ingest_flatfiles

DAY = dt.date(2026, 11, 23)
AFTER = published_at(DAY) + dt.timedelta(hours=1)
ROWS = b"AAPL,100,1.5,1.75,2.0,1.25,1795410000000000000,12\nMSFT,7,300.0,301.25,302.5,299.0,1795410000000000000,3\n"


def _object(rows: bytes = ROWS, header: bytes = HEADER) -> bytes:
    return gzip.compress(header + rows, mtime=0)


def _put(
    endpoint: Endpoint, bucket: str, body: bytes, dataset: str = "stock_day_aggs", day: dt.date = DAY
) -> str:
    s3(endpoint).put_object(Bucket=bucket, Key=vendor_key(dataset, day), Body=body)
    return str(s3(endpoint).head_object(Bucket=bucket, Key=vendor_key(dataset, day))["ETag"]).strip('"')


def _resources(tmp_path: Path, endpoint: Endpoint, bucket: str, **overrides: object) -> Resources:
    return Resources.from_settings(flatfile_settings(tmp_path / "home", endpoint, bucket, **overrides))


def _stocks(resources: Resources, run_id: str, day: dt.date = DAY, now: dt.datetime = AFTER) -> None:
    ingest_flatfiles(resources, day, day, datasets=["stock_day_aggs"], run_id=run_id, now=now)


def _lake_keys(lake: Lake) -> list[str]:
    return lake.storage.list_keys("raw/")


def test_each_object_lands_verbatim_with_its_origin(
    tmp_path: Path, flatfile_endpoint: Endpoint, bucket: str
) -> None:
    stocks, options = (
        _object(),
        _object(b"O:AAPL261127C00205000,487,32.37,35.12,35.21,32.14,1795410000000000000,157\n"),
    )
    etags = {"stock_day_aggs": _put(flatfile_endpoint, bucket, stocks),
             "option_day_aggs": _put(flatfile_endpoint, bucket, options, "option_day_aggs")}  # fmt: skip
    resources = _resources(tmp_path, flatfile_endpoint, bucket)
    report = ingest_flatfiles(resources, DAY, DAY, run_id="r1", now=AFTER)
    assert [(u.dataset, u.rows, u.requests) for u in report.units] == [
        ("stock_day_aggs", 2, 1),
        ("option_day_aggs", 1, 1),
    ]
    for dataset, body in (("stock_day_aggs", stocks), ("option_day_aggs", options)):
        [manifest] = resources.lake.manifests(dataset, DAY)
        [part] = manifest.parts
        stored = resources.lake.storage.get_bytes(part.key)
        assert stored == body  # verbatim: the lake's bytes are the object's
        assert part.key == f"raw/polygon/{dataset}/dt={DAY}/part-00000-r1.csv.gz"
        assert (part.bytes, part.sha256) == (len(body), hashlib.sha256(body).hexdigest())
        origin = manifest.stats["origin"]
        assert (
            manifest.stats["format"] == "csv.gz"
            and manifest.underlying is None
            and manifest.source == "simulator"
        )
        assert (origin["bucket"], origin["key"], origin["etag"], origin["size"]) == (
            bucket,
            vendor_key(dataset, DAY),
            etags[dataset],
            len(body),
        )
        assert dt.datetime.fromisoformat(origin["last_modified"]).tzinfo is not None
        raw = json.loads(resources.lake.storage.get_bytes(manifest.key))
        assert raw["rows"] == part.rows and raw["dataset"] == dataset


def test_a_known_etag_is_skipped_and_a_republished_object_lands_a_second_version(
    tmp_path: Path, flatfile_endpoint: Endpoint, bucket: str
) -> None:
    first = _put(flatfile_endpoint, bucket, _object())
    resources = _resources(tmp_path, flatfile_endpoint, bucket)
    _stocks(resources, "r1")
    _stocks(resources, "r1")  # the same run resumes: nothing new
    _stocks(resources, "r2")  # another run, the same ETag: skipped
    assert [m.run_id for m in resources.lake.manifests("stock_day_aggs", DAY)] == ["r1"]
    second = _put(
        flatfile_endpoint, bucket, _object(ROWS + b"NVDA,1,1.0,1.0,1.0,1.0,1795410000000000000,1\n")
    )
    assert second != first
    _stocks(resources, "r3")
    versions = {m.run_id: m for m in resources.lake.manifests("stock_day_aggs", DAY)}
    assert sorted(versions) == ["r1", "r3"]
    assert (versions["r1"].stats["origin"]["etag"], versions["r3"].stats["origin"]["etag"]) == (first, second)
    assert (versions["r1"].rows, versions["r3"].rows) == (2, 3)
    assert versions["r3"].stats["origin"]["last_modified"] >= versions["r1"].stats["origin"]["last_modified"]


def test_a_missing_object_before_its_publication_is_retryable(
    tmp_path: Path, flatfile_endpoint: Endpoint, bucket: str
) -> None:
    resources = _resources(tmp_path, flatfile_endpoint, bucket)
    with pytest.raises(StepError) as failed:
        _stocks(resources, "r1", now=published_at(DAY) - dt.timedelta(minutes=5))
    assert failed.value.retryable
    assert "not yet published, expected after 2026-11-24 11:00 EST" in str(failed.value)
    assert _lake_keys(resources.lake) == []


def test_a_missing_object_after_its_publication_is_permanent_and_named(
    tmp_path: Path, flatfile_endpoint: Endpoint, bucket: str
) -> None:
    resources = _resources(tmp_path, flatfile_endpoint, bucket)
    with pytest.raises(StepError) as failed:
        _stocks(resources, "r1")
    assert not failed.value.retryable
    assert vendor_key("stock_day_aggs", DAY) in str(failed.value) and "does not exist" in str(failed.value)
    assert _lake_keys(resources.lake) == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (_object()[:-20], "truncated"),  # the gzip stream stops before its end marker
        (_object(header=b"T,v,o,c,h,l,t,n\n"), "does not start with the day-aggregates header"),
        (HEADER + ROWS, "not a valid gzip stream"),
    ],
    ids=["truncated", "wrong-header", "not-gzip"],
)
def test_a_broken_object_is_refused_and_nothing_lands(
    tmp_path: Path, flatfile_endpoint: Endpoint, bucket: str, body: bytes, says: str
) -> None:
    _put(flatfile_endpoint, bucket, body)
    resources = _resources(tmp_path, flatfile_endpoint, bucket)
    with pytest.raises(StepError) as failed:
        _stocks(resources, "r1")
    assert says in str(failed.value) and not failed.value.retryable
    assert _lake_keys(resources.lake) == []  # no manifest, and no part either


@pytest.mark.parametrize(
    ("which", "code"), [("key_id", "InvalidAccessKeyId"), ("secret", "SignatureDoesNotMatch")]
)
def test_wrong_keys_are_permanent_clear_and_never_printed(
    tmp_path: Path, flatfile_endpoint: Endpoint, bucket: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], which: str, code: str,
) -> None:  # fmt: skip
    _put(flatfile_endpoint, bucket, _object())
    wrong_id = "AKIAWRONGWRONGWRONG1" if which == "key_id" else flatfile_endpoint.key_id
    wrong_secret = "wrong-secret-0123456789" if which == "secret" else flatfile_endpoint.secret
    for name, value in {"SMELT_HOME": str(tmp_path / "home"), "SMELT_SIM_NOW": str(SIM_NOW), "SMELT_LOG_FORMAT": "json",
                        "POLYGON_FLATFILES_ENDPOINT_URL": flatfile_endpoint.url, "POLYGON_FLATFILES_BUCKET": bucket,
                        "POLYGON_FLATFILES_ACCESS_KEY_ID": wrong_id,
                        "POLYGON_FLATFILES_SECRET_ACCESS_KEY": wrong_secret}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    done = CliRunner().invoke(
        app, ["ingest", "flatfiles", "--start", str(DAY), "--end", str(DAY), "--datasets", "stocks"]
    )
    said = done.output + capsys.readouterr().err
    assert done.exit_code == 3, said  # permanent (decision 12): a retry cannot fix a key
    assert code in said and "POLYGON_FLATFILES_SECRET_ACCESS_KEY" in said
    for secret in (wrong_id, wrong_secret, flatfile_endpoint.secret):
        assert secret not in said
    assert not (tmp_path / "home" / "lake" / "raw").exists()


def test_a_cut_transfer_is_refused_as_retryable(tmp_path: Path) -> None:
    import io

    from workflows.flatfiles import FlatFileError, ObjectInfo
    from workflows.steps.flatfiles import _receive

    body = _object()
    info = ObjectInfo("b", "k", "etag", "2026-11-24T16:00:00+00:00", len(body) + 100)
    with pytest.raises(FlatFileError) as failed:
        _receive(io.BytesIO(body), tmp_path / "part", info, "s3://b/k")
    assert failed.value.retryable and "received" in str(failed.value)


def test_days_outside_the_calendar_or_range_are_refused(
    tmp_path: Path, flatfile_endpoint: Endpoint, bucket: str
) -> None:
    resources = _resources(tmp_path, flatfile_endpoint, bucket)
    saturday = dt.date(2026, 11, 21)
    assert not calendar.is_trading_day(saturday)
    with pytest.raises(StepError, match="no trading days"):
        ingest_flatfiles(resources, saturday, saturday, run_id="r1", now=AFTER)


def test_a_pod_of_the_same_run_that_loses_the_race_takes_the_winners_manifest(
    tmp_path: Path, flatfile_endpoint: Endpoint, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put(flatfile_endpoint, bucket, _object())
    resources = _resources(tmp_path, flatfile_endpoint, bucket)
    _stocks(resources, "r1")  # the winner
    # the loser looked before the winner stored its manifest: it sees neither this run's nor the ETag's
    monkeypatch.setattr(Lake, "landed", lambda *_: None)
    monkeypatch.setattr(Lake, "manifests", lambda *_: [])
    report = ingest_flatfiles(resources, DAY, DAY, datasets=["stock_day_aggs"], run_id="r1", now=AFTER)
    [unit] = report.units
    assert (
        unit.resumed
        and unit.rows == 2
        and unit.manifest_key == f"raw/_manifests/stock_day_aggs/dt={DAY}/r1.json"
    )


@pytest.mark.parametrize(("code", "status"), [("AccessDenied", 403), ("403", 403), ("NoSuchKey", 404)])
def test_a_403_that_says_nothing_else_counts_as_a_missing_object(code: str, status: int) -> None:
    from botocore.exceptions import ClientError

    from workflows.flatfiles import FlatFilesClient

    client = FlatFilesClient("http://127.0.0.1:9", "flatfiles", "id", "secret")
    refused = ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject"
    )
    error = client._classify(refused, "us_stocks_sip/day_aggs_v1/2026/11/2026-11-23.csv.gz")
    assert error.problem == "missing"  # the step then judges it by the publication time
