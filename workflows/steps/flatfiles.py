"""``smelt ingest flatfiles``: the vendor's day-aggregate objects landed in the lake verbatim, one per day.

Each object is streamed once: to a temporary file, through sha256 and a gzip decoder that counts the CSV
lines and checks the header, then stored as the unit's one part with its manifest. A short or broken object
is refused before anything is stored, so a half day never becomes visible. The ETag decides what is new: a
day already landed with the object's ETag is skipped, a republished object (new ETag) lands as a new
version beside the old one (downstream the newest ``origin.last_modified`` wins).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from workflows import calendar, logs
from workflows.flatfiles import FlatFileError, FlatFilesClient, ObjectInfo, published_at, vendor_key
from workflows.flatfiles.objects import DATASETS_BY_NAME, HEADER
from workflows.lake import (
    Lake,
    Manifest,
    ManifestExistsError,
    PartInfo,
    Source,
    manifest_key,
    new_run_id,
    part_key,
)
from workflows.steps.errors import StepError
from workflows.steps.plan import source_now, trading_days_of, uses_embedded_flatfiles
from workflows.steps.resources import Resources
from workflows.steps.source import embedded_simulator
from workflows.steps.units import IngestReport, UnitReport

log = logs.get_logger("smelt.steps")

ALL_DATASETS: tuple[str, ...] = tuple(dataset for dataset, _ in DATASETS_BY_NAME.values())
_CHUNK = 1 << 20


def ingest_flatfiles(
    resources: Resources,
    start: dt.date,
    end: dt.date,
    *,
    datasets: Sequence[str] | None = None,
    run_id: str | None = None,
    now: dt.datetime | None = None,
) -> IngestReport:
    """Land each trading day's flat file of each dataset (default: stocks and options) from the endpoint (in
    the embedded mode, from the local one the simulator has just published the days to)."""
    run_id = run_id or new_run_id()
    days = trading_days_of("ingest-flatfiles", start, end)
    chosen = tuple(datasets or ALL_DATASETS)
    now = now or source_now(resources.settings)
    report = IngestReport("ingest-flatfiles", run_id)
    with (
        logs.bound(run_id=run_id, step="ingest-flatfiles", trade_date=f"{days[0]}..{days[-1]}"),
        embedded_flatfiles(resources, days, chosen) as resources,
    ):
        try:
            client = FlatFilesClient.from_settings(resources.settings.flatfiles)
        except FlatFileError as exc:
            raise StepError(f"ingest-flatfiles: {exc}", retryable=False) from exc
        for day in days:
            for dataset in chosen:
                report.units.append(land_flatfile(resources.lake, client, dataset, day, run_id,
                                                  resources.source, now))  # fmt: skip
    return report


def land_flatfile(
    lake: Lake,
    client: FlatFilesClient,
    dataset: str,
    day: dt.date,
    run_id: str,
    source: Source,
    now: dt.datetime,
) -> UnitReport:
    """One object, one manifest: resume past this run's own, skip a known ETag, else stream and land it."""
    unit, started = UnitReport(dataset, day, None), time.perf_counter()
    with logs.bound(dataset=dataset, trade_date=day.isoformat()):
        done = lake.landed(dataset, day, None, run_id)
        if done is not None:
            unit.resumed = True
            return unit.finish(done, started)
        key = vendor_key(dataset, day)
        unit.requests = 1
        try:
            with client.open(key) as (info, body):
                known = _landed_version(lake, dataset, day, info.etag)
                if known is not None:
                    log.info("flat file already landed with this ETag: skipped", key=key, etag=info.etag,
                             manifest=known.key)  # fmt: skip
                    unit.resumed = True
                    return unit.finish(known, started)
                with tempfile.TemporaryDirectory(prefix="smelt-flatfile-") as tmp:
                    local = Path(tmp) / "object.csv.gz"
                    part = _receive(body, local, info, client.where(key))
                    try:
                        manifest = _store(lake, local, dataset, day, run_id, source, part, info)
                    except ManifestExistsError:  # another pod of this run (a per-underlying fan-out) won
                        manifest = lake.read_manifest(manifest_key(dataset, day, None, run_id))
                        unit.resumed = True
        except FlatFileError as exc:
            raise _step_error(exc, dataset, day, key, client, now) from exc
        return unit.finish(manifest, started)


def _landed_version(lake: Lake, dataset: str, day: dt.date, etag: str) -> Manifest | None:
    """A manifest of any run that already holds the object with this ETag."""
    for manifest in lake.manifests(dataset, day):
        if manifest.stats.get("origin", {}).get("etag") == etag:
            return manifest
    return None


class _Lines:
    """Decodes a gzip stream as it arrives: counts CSV lines, checks the header, knows if it ended."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(wbits=31)
        self.head = b""
        self.newlines = 0
        self.last = b"\n"
        self.members = 0
        self.open = False  # bytes of a member arrived whose end-of-stream marker has not

    def feed(self, data: bytes) -> None:
        while data:
            self.open = True
            self._count(self._z.decompress(data))
            if not self._z.eof:
                return
            self.members += 1
            self.open = False
            data = self._z.unused_data  # a second gzip member follows (concatenated gzip is still gzip)
            self._z = zlib.decompressobj(wbits=31)

    def _count(self, out: bytes) -> None:
        if out:
            if len(self.head) < len(HEADER):
                self.head += out[: len(HEADER) - len(self.head)]
            self.newlines += out.count(b"\n")
            self.last = out[-1:]

    @property
    def complete(self) -> bool:
        """Every member that began also ended: what a truncated object fails."""
        return self.members > 0 and not self.open

    @property
    def rows(self) -> int:
        lines = self.newlines + (0 if self.last == b"\n" else 1)
        return max(lines - 1, 0)  # the header is no row


def _receive(body: Any, local: Path, info: ObjectInfo, where: str) -> PartInfo:
    """Stream the body to ``local`` through sha256 and the gzip decoder; refuse anything incomplete."""
    sha, size, lines = hashlib.sha256(), 0, _Lines()
    with local.open("wb") as out:
        while chunk := body.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
            out.write(chunk)
            try:
                lines.feed(chunk)
            except zlib.error as exc:
                raise FlatFileError(
                    f"{where} is not a valid gzip stream ({exc}): refused, nothing landed",
                    problem="other",
                    retryable=False,
                ) from None
    if size != info.size:
        raise FlatFileError(
            f"{where}: received {size} of {info.size} bytes (the transfer was cut short): refused, nothing landed",
            problem="other",
            retryable=True,
        )
    if not lines.complete:
        raise FlatFileError(
            f"{where} is truncated: its gzip stream ends before its end-of-stream marker ({size} bytes); refused, "
            "nothing landed. The vendor has to republish it; run the ingest again once a new ETag is listed",
            problem="other",
            retryable=False,
        )
    if lines.head != HEADER:
        raise FlatFileError(
            f"{where} does not start with the day-aggregates header {HEADER.decode().strip()!r} (found "
            f"{lines.head.decode(errors='replace').strip()!r}): refused, nothing landed",
            problem="other",
            retryable=False,
        )
    return PartInfo("", lines.rows, size, sha.hexdigest())


def _store(
    lake: Lake,
    local: Path,
    dataset: str,
    day: dt.date,
    run_id: str,
    source: Source,
    part: PartInfo,
    info: ObjectInfo,
) -> Manifest:
    """The object's bytes as the unit's one part, then the manifest that makes it visible."""
    key = part_key(dataset, day, None, run_id, 0)
    lake.storage.put_file(local, key)
    manifest = Manifest(
        dataset=dataset,
        trade_date=day,
        underlying=None,
        run_id=run_id,
        source=source,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        parts=(PartInfo(key, part.rows, part.bytes, part.sha256),),
        stats={"format": "csv.gz", "origin": info.as_dict()},
    )
    lake.storage.put_exclusive(manifest.key, manifest.to_json())
    return manifest


def _step_error(
    exc: FlatFileError, dataset: str, day: dt.date, key: str, client: FlatFilesClient, now: dt.datetime
) -> StepError:
    what = f"ingest-flatfiles {dataset} {day}"
    if exc.problem != "missing":
        return StepError(f"{what}: {exc}", retryable=exc.retryable)
    due = published_at(day)
    if now < due:
        return StepError(
            f"{what}: not yet published, expected after {due.astimezone(calendar.NEW_YORK):%Y-%m-%d %H:%M %Z} "
            f"({client.where(key)} is not there at {now:%Y-%m-%d %H:%M} UTC); run it again later",
            retryable=True,
        )
    return StepError(
        f"{what}: {client.where(key)} does not exist (or these keys may not read it), although the vendor "
        f"publishes a trading day's file by {due.astimezone(calendar.NEW_YORK):%Y-%m-%d %H:%M %Z}: check "
        "POLYGON_FLATFILES_BUCKET and your flat-file plan's coverage of that date",
        retryable=False,
    )


@contextmanager
def embedded_flatfiles(
    resources: Resources, days: Sequence[dt.date], datasets: Sequence[str] = ALL_DATASETS
) -> Iterator[Resources]:
    """The resources to read flat files with: as given when keys are set; in the embedded mode, pointed at
    a local endpoint the in-process simulator has just published ``days`` to, for the block's duration."""
    settings = resources.settings
    if settings.flatfiles.credentials_set or not uses_embedded_flatfiles(settings):
        yield resources
        return
    from workflows.flatfiles import embedded
    from workflows.simulator import create_app
    from workflows.simulator import flatfiles as published

    started = time.perf_counter()
    with embedded.local_endpoint() as endpoint:
        options = create_app(**embedded_simulator(settings)).state.options
        client = FlatFilesClient.from_settings(endpoint)
        files, _ = published.publish(client, options, days, datasets, source_now(settings))
        log.info("embedded flat files published", endpoint=endpoint.endpoint_url, files=len(files),
                 bytes=sum(f.bytes for f in files), seconds=round(time.perf_counter() - started, 1))  # fmt: skip
        yield replace(resources, settings=settings.model_copy(update={"flatfiles": endpoint}))
