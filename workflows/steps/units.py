"""A unit of ingest: one dataset, one day, maybe one underlying, landed as one manifest.

Pages are counted here and only here (a page cost one request plus its retries). A unit that this run
already landed (its manifest exists under the same run id, as after an Argo retry of the step) is not
fetched again: the step resumes past it, so a retry neither duplicates nor overwrites anything.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from workflows import logs
from workflows.lake import DatasetWriter, Lake, Manifest, Source
from workflows.polygon import Page
from workflows.polygon.urls import request_target
from workflows.progress import UnitProgress
from workflows.steps.errors import StepError, describe, retryable

log = logs.get_logger("smelt.steps")

Collect = Callable[[dict[str, Any]], None]


@dataclass
class UnitReport:
    """Counts for one manifest's worth of ingest."""

    dataset: str
    trade_date: dt.date
    underlying: str | None
    requests: int = 0
    retries: int = 0
    rows: int = 0
    item_errors: int = 0
    bytes: int = 0
    seconds: float = 0.0
    manifest_key: str | None = None
    resumed: bool = False

    def count(self, page: Page) -> None:
        """Account for one page: the request, its retries and the items the API marked as errors."""
        self.requests += 1 + page.retries
        self.retries += page.retries
        self.item_errors += len(page.item_errors)

    def finish(self, manifest: Manifest | None, started: float) -> UnitReport:
        self.seconds = round(time.perf_counter() - started, 3)
        if manifest is not None:
            self.rows, self.bytes, self.manifest_key = manifest.rows, manifest.bytes, manifest.key
        fields = {k: v for k, v in asdict(self).items() if k != "trade_date"}
        log.info("unit resumed: landed by this run before" if self.resumed else "unit finished", **fields)
        return self


@dataclass
class IngestReport:
    step: str
    run_id: str
    units: list[UnitReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(u.rows for u in self.units)

    @property
    def requests(self) -> int:
        return sum(u.requests for u in self.units)


@dataclass(frozen=True)
class Lander:
    """Lands units of one run in one lake, labelled with the run's source."""

    lake: Lake
    run_id: str
    source: Source

    def writer(self, dataset: str, day: dt.date, underlying: str | None) -> DatasetWriter:
        return self.lake.writer(dataset, day, underlying, self.run_id, self.source)

    def landed(self, dataset: str, day: dt.date, underlying: str | None) -> Manifest | None:
        return self.lake.landed(dataset, day, underlying, self.run_id)

    def records(self, manifest: Manifest) -> Iterator[dict[str, Any]]:
        return self.lake.records(manifest)

    async def land(
        self,
        dataset: str,
        day: dt.date,
        underlying: str | None,
        pages: AsyncIterator[Page],
        collect: Collect | None = None,
    ) -> UnitReport:
        """Write every item of ``pages`` to one manifest; ``collect`` sees each item (e.g. contract tickers)."""
        unit, started = UnitReport(dataset, day, underlying), time.perf_counter()
        with logs.bound(dataset=dataset, underlying=underlying):
            done = self.landed(dataset, day, underlying)
            if done is not None:
                unit.resumed = True
                if collect is not None:
                    for item in self.records(done):
                        collect(item)
                return unit.finish(done, started)
            try:
                with self.writer(dataset, day, underlying) as writer:
                    writer.stats["run_id"] = self.run_id
                    async for page in pages:
                        unit.count(page)
                        target = request_target(
                            page.url
                        )  # once per page: parsing a URL per item doubled the ingest
                        for item in page.items:
                            writer.write(item, endpoint=page.endpoint, request_id=page.request_id,
                                         fetched_at=page.fetched_at, request=target)  # fmt: skip
                            if collect is not None:
                                collect(item)
                    writer.stats.update(requests=unit.requests, retries=unit.retries)
                    if unit.item_errors:
                        writer.stats["item_errors"] = unit.item_errors
            except Exception as exc:
                where = f"{dataset} for {underlying}" if underlying else dataset
                raise StepError(f"{where}: {describe(exc)}", retryable=retryable(exc)) from exc
            return unit.finish(writer.manifest, started)


#: Units in progress at once. The client bounds requests in flight, not units: with every unit started, each
#: one that had its first page kept its open gzip part (compressor state, buffer) while waiting behind
#: thousands of others for its next page, and a whole-market day (15,000 units) peaked at 2.9 GiB. A bound a
#: few times the client's concurrency keeps its requests busy and holds a few dozen parts open.
UNITS_AT_ONCE = 48


async def gather_units(step: str, when: object, coros: Iterable[Awaitable[UnitReport]]) -> list[UnitReport]:
    """Run units concurrently; finished units keep their manifests, failures end the step with one message
    that names every failed unit (each is also logged on its own line)."""
    pending = list(coros)
    started = asyncio.Semaphore(UNITS_AT_ONCE)
    with UnitProgress(f"{step} {when}", len(pending)) as bar:

        async def tracked(unit: Awaitable[UnitReport]) -> UnitReport:
            async with started:  # a unit's coroutine holds nothing until it starts
                result = await unit
            bar.advance(result.rows)
            return result

        results = await asyncio.gather(*(tracked(c) for c in pending), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures:
        log.error("unit failed", error=describe(failure))
    if failures:
        raise StepError(
            f"{step} {when}: {len(failures)} of {len(results)} units failed: "
            + "; ".join(describe(f) for f in failures),
            retryable=all(retryable(f) for f in failures),
        ) from failures[0]
    return [r for r in results if isinstance(r, UnitReport)]
