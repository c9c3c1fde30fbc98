"""The raw zone of one lake URL: writers for new units, and reading back what manifests list, verified.

A part is handed out only after its size and sha256 match its manifest entry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from workflows.lake.errors import KeyMissingError, PartCorruptError
from workflows.lake.keys import DATASETS, manifest_key, manifest_prefix
from workflows.lake.manifest import Manifest, PartInfo
from workflows.lake.storage import Storage, open_storage
from workflows.lake.writer import DEFAULT_ROWS_PER_PART, DatasetWriter, Source

_CHUNK = 1 << 20


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
