"""The raw zone: gzip NDJSON parts and the manifests that make them visible, on a folder or on S3.

A writer streams records into ``part-NNNNN-<run_id>.ndjson.gz`` files (rotated by row count, so memory
stays flat however large the day) and, only when every part is stored, writes one manifest listing each
part with rows, bytes and sha256. Manifests are created exclusively (``If-None-Match: *`` on S3, a hard
link on a folder) and never overwritten; a part that no manifest names does not exist for the loader.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import gzip
import hashlib
import os
import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal
from urllib.parse import unquote, urlparse

import orjson

DATASETS: tuple[str, ...] = (
    "stock_bars",
    "stock_splits",
    "option_contracts",
    "option_snapshots",
    "option_bars",
    "stock_dividends",
    "treasury_yields",
    "option_greeks",
)
RAW_PREFIX = "raw/polygon"
MANIFEST_PREFIX = "raw/_manifests"
MANIFEST_VERSION = 1
DEFAULT_ROWS_PER_PART = 100_000
_CHUNK = 1 << 20

Source = Literal["polygon", "simulator"]


class LakeError(RuntimeError):
    """A lake operation failed; the message names the key."""


class KeyMissingError(LakeError):
    """The key holds nothing."""


class ManifestExistsError(LakeError):
    """A manifest with this key is already stored; manifests are never overwritten."""


class PartCorruptError(LakeError):
    """A part's bytes do not match its manifest (size or sha256): it was truncated or altered.

    Loading again cannot help; the day's ingest must be re-run.
    """

    retryable = False


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id: ``20260105T211500Z-1a2b3c4d``."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _check(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")


def _partition(dataset: str, day: dt.date, underlying: str | None) -> str:
    _check(dataset)
    path = f"{dataset}/dt={day.isoformat()}"
    return f"{path}/underlying={underlying}" if underlying else path


def part_key(dataset: str, day: dt.date, underlying: str | None, run_id: str, index: int) -> str:
    return f"{RAW_PREFIX}/{_partition(dataset, day, underlying)}/part-{index:05d}-{run_id}.ndjson.gz"


def manifest_key(dataset: str, day: dt.date, underlying: str | None, run_id: str) -> str:
    return f"{MANIFEST_PREFIX}/{_partition(dataset, day, underlying)}/{run_id}.json"


def manifest_prefix(dataset: str | None = None, day: dt.date | None = None) -> str:
    if dataset is None:
        return f"{MANIFEST_PREFIX}/"
    _check(dataset)
    if day is None:
        return f"{MANIFEST_PREFIX}/{dataset}/"
    return f"{MANIFEST_PREFIX}/{dataset}/dt={day.isoformat()}/"


@dataclass(frozen=True)
class PartInfo:
    key: str
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    dataset: str
    trade_date: dt.date
    underlying: str | None
    run_id: str
    source: str
    created_at: str
    parts: tuple[PartInfo, ...]
    stats: dict[str, Any] = field(default_factory=dict)
    version: int = MANIFEST_VERSION

    @property
    def key(self) -> str:
        return manifest_key(self.dataset, self.trade_date, self.underlying, self.run_id)

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts)

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.parts)

    def to_json(self) -> builtins.bytes:
        body = asdict(self)
        body["trade_date"] = self.trade_date.isoformat()
        body["rows"], body["bytes"] = self.rows, self.bytes
        return orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, raw: builtins.bytes, key: str) -> Manifest:
        try:
            body = orjson.loads(raw)
            return cls(
                dataset=body["dataset"],
                trade_date=dt.date.fromisoformat(body["trade_date"]),
                underlying=body.get("underlying"),
                run_id=body["run_id"],
                source=body["source"],
                created_at=body["created_at"],
                parts=tuple(PartInfo(**p) for p in body["parts"]),
                stats=body.get("stats", {}),
                version=body.get("version", MANIFEST_VERSION),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise LakeError(f"manifest {key} is unreadable: {exc}") from exc


class Storage(ABC):
    """Bytes under keys. Two backends, the same semantics."""

    url: str

    @abstractmethod
    def put_file(self, local: Path, key: str) -> None: ...

    @abstractmethod
    def put_exclusive(self, key: str, body: bytes) -> None:
        """Store ``body`` at ``key`` atomically, or raise ManifestExistsError if the key exists."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def list_keys(self, prefix: str) -> list[str]: ...

    @abstractmethod
    def open_read(self, key: str) -> IO[bytes]: ...

    @abstractmethod
    def local_path(self, key: str) -> Path | None:
        """The key's file on this machine, when the backend is a folder."""


class FolderStorage(Storage):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.url = self.root.as_uri()

    def _path(self, key: str) -> Path:
        return self.root / key

    def put_file(self, local: Path, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        shutil.copyfile(local, tmp)
        os.replace(tmp, target)

    def put_exclusive(self, key: str, body: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(body)
        try:
            os.link(tmp, target)  # atomic, and fails if the name exists: a complete file or none
        except FileExistsError:
            raise ManifestExistsError(
                f"{self.url}/{key} already exists; manifests are never overwritten"
            ) from None
        finally:
            tmp.unlink()

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyMissingError(f"{self.url}/{key} does not exist") from None

    def list_keys(self, prefix: str) -> list[str]:
        base = self._path(prefix.rstrip("/"))
        if not base.exists():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )

    def open_read(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise KeyMissingError(f"{self.url}/{key} does not exist") from None

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


class S3Storage(Storage):
    def __init__(
        self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client: Any = None
    ) -> None:
        import boto3

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_file(self, local: Path, key: str) -> None:
        self.client.upload_file(str(local), self.bucket, self._key(key))

    def put_exclusive(self, key: str, body: bytes) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=body, IfNoneMatch="*",
                ContentType="application/json",
            )  # fmt: skip
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}:
                raise ManifestExistsError(
                    f"{self.url}/{key} already exists; manifests are never overwritten"
                ) from None
            raise LakeError(f"cannot write {self.url}/{key}: {code or exc}") from exc

    def get_bytes(self, key: str) -> bytes:
        with contextlib.closing(self.open_read(key)) as body:
            return body.read()

    def list_keys(self, prefix: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        paginator = self.client.get_paginator("list_objects_v2")
        full = self._key(prefix)
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            keys = [
                obj["Key"][strip:]
                for page in paginator.paginate(Bucket=self.bucket, Prefix=full)
                for obj in page.get("Contents", [])
            ]
        except (ClientError, BotoCoreError) as exc:
            raise LakeError(f"cannot list {self.url}/{prefix}: {exc}") from exc
        return sorted(keys)

    def open_read(self, key: str) -> IO[bytes]:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]  # type: ignore[return-value]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404"}:
                raise KeyMissingError(f"{self.url}/{key} does not exist") from None
            raise LakeError(f"cannot read {self.url}/{key}: {code or exc}") from exc

    def local_path(self, key: str) -> Path | None:
        return None


def open_storage(url: str, s3_endpoint_url: str | None = None) -> Storage:
    """``file:///abs/path`` or ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return FolderStorage(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"lake URL {url!r} has no bucket: expected s3://bucket/prefix")
        return S3Storage(parsed.netloc, parsed.path, endpoint_url=s3_endpoint_url)
    raise ValueError(f"lake URL {url!r} is not supported: expected file:///path or s3://bucket/prefix")


class _HashingFile:
    """Counts and hashes the compressed bytes on their way to disk, so nothing is read twice."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


class DatasetWriter:
    """Writes one manifest's worth of parts: ``with lake.writer(...) as w: w.write(item, endpoint=...)``.

    Leaving the block normally stores the manifest; leaving it by an exception stores none, so the parts
    already written stay invisible.
    """

    def __init__(
        self,
        storage: Storage,
        dataset: str,
        trade_date: dt.date,
        underlying: str | None,
        run_id: str,
        source: Source,
        rows_per_part: int = DEFAULT_ROWS_PER_PART,
    ) -> None:
        _check(dataset)
        self.storage, self.dataset, self.trade_date = storage, dataset, trade_date
        self.underlying, self.run_id, self.source = underlying, run_id, source
        self.rows_per_part = rows_per_part
        self.stats: dict[str, Any] = {}
        self.parts: list[PartInfo] = []
        self.manifest: Manifest | None = None
        self._tmpdir = tempfile.TemporaryDirectory(prefix="smelt-part-")
        self._fh: IO[bytes] | None = None
        self._hashing: _HashingFile | None = None
        self._gz: gzip.GzipFile | None = None
        self._rows = 0

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts) + self._rows

    def write(
        self,
        item: dict[str, Any],
        *,
        endpoint: str,
        request_id: str | None,
        fetched_at: str,
        **extra_meta: Any,
    ) -> None:
        """Append one API result item verbatim, plus the ``_meta`` object.

        ``extra_meta`` adds what the item itself lacks, e.g. the option ``ticker`` of a range-aggs bar.
        """
        if self._gz is None:
            self._open_part()
        assert self._gz is not None
        line = dict(item)
        line["_meta"] = {
            "source": self.source,
            "endpoint": endpoint,
            "request_id": request_id,
            "fetched_at": fetched_at,
            "trade_date": self.trade_date.isoformat(),
            "underlying": self.underlying,
            **extra_meta,
        }
        self._gz.write(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE))
        self._rows += 1
        if self._rows >= self.rows_per_part:
            self._close_part()

    def _tmp(self) -> Path:
        return Path(self._tmpdir.name) / f"part-{len(self.parts):05d}.ndjson.gz"

    def _open_part(self) -> None:
        self._fh = self._tmp().open("wb")
        self._hashing = _HashingFile(self._fh)
        self._gz = gzip.GzipFile(fileobj=self._hashing, mode="wb", compresslevel=6, mtime=0)

    def _close_part(self) -> None:
        assert self._gz is not None and self._fh is not None and self._hashing is not None
        self._gz.close()
        self._fh.close()
        tmp = self._tmp()
        key = part_key(self.dataset, self.trade_date, self.underlying, self.run_id, len(self.parts))
        self.storage.put_file(tmp, key)
        self.parts.append(PartInfo(key, self._rows, self._hashing.size, self._hashing.sha.hexdigest()))
        tmp.unlink()
        self._gz = self._fh = self._hashing = None
        self._rows = 0

    def commit(self) -> Manifest:
        """Store the last part, then the manifest. An empty day gets a manifest with no parts."""
        if self._gz is not None:
            self._close_part()
        manifest = Manifest(
            dataset=self.dataset,
            trade_date=self.trade_date,
            underlying=self.underlying,
            run_id=self.run_id,
            source=self.source,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            parts=tuple(self.parts),
            stats=dict(self.stats),
        )
        self.storage.put_exclusive(manifest.key, manifest.to_json())
        self.manifest = manifest
        return manifest

    def abort(self) -> None:
        if self._gz is not None:
            with contextlib.suppress(Exception):
                self._gz.close()
        if self._fh is not None:
            self._fh.close()
        self._tmpdir.cleanup()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                self.commit()
        finally:
            self.abort()


class Lake:
    """The raw zone of one lake URL."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    @classmethod
    def open(cls, url: str, s3_endpoint_url: str | None = None) -> Lake:
        return cls(open_storage(url, s3_endpoint_url))

    @property
    def url(self) -> str:
        return self.storage.url

    def writer(
        self,
        dataset: str,
        trade_date: dt.date,
        underlying: str | None,
        run_id: str,
        source: Source,
        rows_per_part: int = DEFAULT_ROWS_PER_PART,
    ) -> DatasetWriter:
        return DatasetWriter(self.storage, dataset, trade_date, underlying, run_id, source, rows_per_part)

    def manifest_keys(self, dataset: str | None = None, day: dt.date | None = None) -> list[str]:
        """Manifest keys, optionally of one dataset and/or one day (the day is a folder per dataset)."""
        if dataset is None and day is not None:
            return sorted(k for name in DATASETS for k in self.manifest_keys(name, day))
        return [k for k in self.storage.list_keys(manifest_prefix(dataset, day)) if k.endswith(".json")]

    def read_manifest(self, key: str) -> Manifest:
        return Manifest.from_json(self.storage.get_bytes(key), key)

    def records(self, manifest: Manifest) -> Iterator[dict[str, Any]]:
        """The lines of a manifest's parts, in order (each verified against the manifest first)."""
        for part in manifest.parts:
            with self.verified_part(part) as local, gzip.open(local, "rb") as lines:
                for line in lines:
                    yield orjson.loads(line)

    def landed(self, dataset: str, day: dt.date, underlying: str | None, run_id: str) -> Manifest | None:
        """The manifest this run already stored for the unit, if any: a retried step resumes past it."""
        try:
            return self.read_manifest(manifest_key(dataset, day, underlying, run_id))
        except KeyMissingError:
            return None

    def manifests(self, dataset: str | None = None, day: dt.date | None = None) -> list[Manifest]:
        return [self.read_manifest(k) for k in self.manifest_keys(dataset, day)]

    @contextlib.contextmanager
    def verified_part(self, part: PartInfo) -> Iterator[Path]:
        """A local file holding the part, checked against its manifest entry (size and sha256).

        A folder lake hands out its own file; an S3 lake streams the object to a temporary file that is
        removed afterwards. Raises PartCorruptError naming the key on any mismatch.
        """
        local = self.storage.local_path(part.key)
        if local is not None:
            if not local.exists():
                raise PartCorruptError(f"{self.url}/{part.key} is missing (its manifest lists it)")
            _verify(local, part, self.url)
            yield local
            return
        with tempfile.TemporaryDirectory(prefix="smelt-load-") as tmp:
            target = Path(tmp) / Path(part.key).name
            with contextlib.closing(self.storage.open_read(part.key)) as body, target.open("wb") as out:
                shutil.copyfileobj(body, out, _CHUNK)
            _verify(target, part, self.url)
            yield target


def _verify(path: Path, part: PartInfo, url: str) -> None:
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    if size != part.bytes or sha.hexdigest() != part.sha256:
        raise PartCorruptError(
            f"{url}/{part.key} does not match its manifest: {size} bytes (expected {part.bytes}), "
            f"sha256 {sha.hexdigest()[:12]}… (expected {part.sha256[:12]}…); "
            "the file was truncated or altered: re-run the ingest for that day"
        )
