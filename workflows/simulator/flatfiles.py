"""The simulator's flat files: the day aggregates Polygon publishes, from the same models as its REST answers.

Stocks are the whole simulated market's unadjusted bars (the numbers of ``/v2/aggs/grouped/...?adjusted=false``);
options are every listed contract of every optionable underlying with the chain's day bar (the numbers of the
range aggregates and of the snapshot's ``day`` for that contract and day). A day is written one underlying at
a time, numpy columns to CSV text to gzip on disk, so memory holds one chain, never the day's 1.4 M contracts;
then one upload. Bytes are deterministic (gzip ``mtime=0``), so publishing the same day again keeps its ETag.
"""

from __future__ import annotations

import datetime as dt
import gzip
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from workflows import logs
from workflows.flatfiles import HEADER, FlatFilesClient, published_at, vendor_key
from workflows.flatfiles.objects import window_start_ns
from workflows.simulator.market import SERIES_BATCH, Market
from workflows.simulator.options import OptionMarket, option_root

log = logs.get_logger("smelt.simulator")


@dataclass(frozen=True)
class Published:
    dataset: str
    day: dt.date
    key: str
    rows: int
    bytes: int


def _csv(tickers: Sequence[str], volume: Iterable[int], o: Iterable[float], c: Iterable[float],
         h: Iterable[float], lo: Iterable[float], window_start: int, trades: Iterable[int]) -> bytes:  # fmt: skip
    """Rows in the vendor's column order; floats as their shortest round-trip text, like the REST JSON."""
    ws = str(window_start)
    return "".join(
        f"{t},{v},{a!r},{b!r},{x!r},{y!r},{ws},{n}\n"
        for t, v, a, b, x, y, n in zip(tickers, volume, o, c, h, lo, trades, strict=True)
    ).encode()


def stock_rows(market: Market, day: dt.date) -> Iterator[tuple[int, bytes]]:
    """The day's unadjusted bars of every ticker of the market, as CSV text (one block)."""
    bars = market.cross_section(day)
    if bars is None:
        return
    volume = np.rint(bars.volume).astype(np.int64).tolist()
    yield len(bars), _csv(bars.tickers, volume, bars.open.tolist(), bars.close.tolist(), bars.high.tolist(),
                          bars.low.tolist(), window_start_ns(day), bars.trades.tolist())  # fmt: skip


def option_rows(options: OptionMarket, day: dt.date) -> Iterator[tuple[int, bytes]]:
    """The day bar of every listed contract, in root order: of every optionable name in the whole-market
    universe (the vendor's file is the whole market, whatever the pipeline asks for), of the named
    underlyings in the default one (those its unfiltered contracts reference lists). Chains are priced a
    batch of underlyings at a time (the same bits as one by one) and not cached: a day passes through once."""
    market = options.market
    names = market.optionable if market.universe == "market" else market.underlyings
    roots = [u for _, u in sorted((option_root(u) or u, u) for u in names)]
    ws = window_start_ns(day)
    for first in range(0, len(roots), SERIES_BATCH):
        batch = roots[first : first + SERIES_BATCH]
        market.prefetch(batch)
        for chain in options.chains(batch, day):
            if len(chain.contracts) == 0:
                continue
            q = chain.quotes
            yield len(chain.contracts), _csv(chain.contracts.tickers, q.volume.tolist(), q.open.tolist(),
                                             q.close.tolist(), q.high.tolist(), q.low.tolist(), ws,
                                             q.trades.tolist())  # fmt: skip


def write_day(blocks: Iterable[tuple[int, bytes]], out: IO[bytes]) -> int:
    """The header and every block, gzip-compressed into ``out``; returns the data rows written."""
    rows = 0
    with gzip.GzipFile(filename="", fileobj=out, mode="wb", compresslevel=6, mtime=0) as gz:
        gz.write(HEADER)
        for count, text in blocks:
            gz.write(text)
            rows += count
    return rows


def publish_day(client: FlatFilesClient, options: OptionMarket, dataset: str, day: dt.date) -> Published:
    """Write one dataset's file for ``day`` to a temporary file, then upload it under the vendor's key."""
    blocks = stock_rows(options.market, day) if dataset == "stock_day_aggs" else option_rows(options, day)
    key = vendor_key(dataset, day)
    with tempfile.TemporaryDirectory(prefix="smelt-sim-flatfile-") as tmp:
        local = Path(tmp) / "day.csv.gz"
        with local.open("wb") as out:
            rows = write_day(blocks, out)
        size = local.stat().st_size
        client.upload(local, key)
    log.info("flat file published", key=key, rows=rows, bytes=size)
    return Published(dataset, day, key, rows, size)


def publish(
    client: FlatFilesClient,
    options: OptionMarket,
    days: Sequence[dt.date],
    datasets: Sequence[str],
    now: dt.datetime,
) -> tuple[list[Published], list[dt.date]]:
    """Publish each day's files that exist at ``now`` (the simulator's clock); return them and the days left
    out because the vendor would not have published them yet (about 11:00 New York the next day)."""
    client.ensure_bucket()
    done: list[Published] = []
    later = [d for d in days if published_at(d) > now]
    for day in days:
        if day in later:
            continue
        done += [publish_day(client, options, dataset, day) for dataset in datasets]
    if later:
        log.warning("flat files not published yet at the simulator's clock", days=[str(d) for d in later],
                    now=now.isoformat(timespec="minutes"))  # fmt: skip
    return done, later
