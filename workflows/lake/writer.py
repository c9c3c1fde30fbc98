"""The writer of one manifest's worth of parts: gzip NDJSON streamed to the storage, the manifest last.

Parts rotate by row count, so memory stays flat however large the day; the compressed bytes are hashed on
their way to disk, so nothing is read twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

import orjson

from workflows.lake.keys import check_dataset, part_key
from workflows.lake.manifest import Manifest, PartInfo
from workflows.lake.storage import Storage

DEFAULT_ROWS_PER_PART = 100_000

Source = Literal["polygon", "simulator"]


#: gzip level of the parts: 3 costs a third of 6's CPU for parts about a fifth larger (decision 121: the
#: options ingest client's largest cost once validation was cut; the lake stays plain gzip NDJSON).
COMPRESSLEVEL = 3

#: Bytes of NDJSON lines gathered before one compression call (bounded memory, few zlib calls).
_COMPRESS_BATCH = 1 << 18


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
        check_dataset(dataset)
        self.storage, self.dataset, self.trade_date = storage, dataset, trade_date
        self.underlying, self.run_id, self.source = underlying, run_id, source
        self.rows_per_part = rows_per_part
        self.stats: dict[str, Any] = {}
        self.parts: list[PartInfo] = []
        self.manifest: Manifest | None = None
        self._tmp: Path | None = None  # the open part's local file
        self._fh: IO[bytes] | None = None
        self._hashing: _HashingFile | None = None
        self._gz: gzip.GzipFile | None = None
        self._pending = bytearray()
        self._rows = 0
        self._day = trade_date.isoformat()  # stamped on every line: formatted once

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
        request: str | None = None,
        **extra_meta: Any,
    ) -> None:
        """Append one API result item verbatim, plus the ``_meta`` object.

        ``request`` is the request's path and query (never a key: ``polygon.urls.request_target``), so a line
        traces to the exact call that fetched it (``smelt trace``). ``extra_meta`` adds what the item itself
        lacks, e.g. the option ``ticker`` of a range-aggs bar.
        """
        if self._gz is None:
            self._open_part()
        assert self._gz is not None
        meta = {
            "source": self.source,
            "endpoint": endpoint,
            "request_id": request_id,
            "fetched_at": fetched_at,
        }
        if request is not None:
            meta["request"] = request
        meta["trade_date"], meta["underlying"] = self._day, self.underlying
        if extra_meta:
            meta.update(extra_meta)
        self._pending += orjson.dumps({**item, "_meta": meta}, option=orjson.OPT_APPEND_NEWLINE)
        if len(self._pending) >= _COMPRESS_BATCH:
            self._compress_pending()
        self._rows += 1
        if self._rows >= self.rows_per_part:
            self._close_part()

    def _compress_pending(self) -> None:
        """Hand the buffered lines to gzip at once: one zlib call per line was most of a large dataset's cost."""
        assert self._gz is not None
        self._gz.write(self._pending)
        self._pending.clear()

    def _open_part(self) -> None:
        """A part is written to a temporary file of its own, not a folder per writer: a whole-market ingest
        opens 15,000 writers, and a folder's create and removal cost more than the part's few writes."""
        fd, name = tempfile.mkstemp(prefix="smelt-part-", suffix=".ndjson.gz")
        self._tmp = Path(name)
        self._fh = open(fd, "wb")  # noqa: SIM115 -- closed in _close_part or abort
        self._hashing = _HashingFile(self._fh)
        self._gz = gzip.GzipFile(fileobj=self._hashing, mode="wb", compresslevel=COMPRESSLEVEL, mtime=0)

    def _close_part(self) -> None:
        assert self._gz is not None and self._fh is not None and self._hashing is not None
        self._compress_pending()
        self._gz.close()
        self._fh.close()
        assert self._tmp is not None
        key = part_key(self.dataset, self.trade_date, self.underlying, self.run_id, len(self.parts))
        self.storage.put_file(self._tmp, key)
        self.parts.append(PartInfo(key, self._rows, self._hashing.size, self._hashing.sha.hexdigest()))
        self._tmp.unlink()
        self._gz = self._fh = self._hashing = self._tmp = None
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
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None

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
