"""Benchmark: pricing at the edges (issue 15), for docs/benchmarks.md.

1. Static arbitrage of the simulated surface: over every chain of the default universe on a window of
   sessions, negative butterflies in strike (model prices, and at the quotes: wings bought at the ask, the
   body sold at the bid for a credit) and calendar violations (total variance at the same forward
   log-moneyness falling with expiry; a longer American bought at the ask for less than the shorter one's
   bid at the same strike).
2. Reason codes and the share solved, from the quote midpoint and from the close (the backfill's price).
3. Greeks against QuantLib's finite-difference American engine on ``tests/pricing/reference.edge_grid`` (rows
   with at least half a cent of time value in both): median, 95th percentile and max error per Greek, near
   the early-exercise boundary (within half a standard deviation of a kink of the approximation) and
   elsewhere.

    .venv/bin/python bench/pricing_edges.py [--day 2026-12-04] [--sessions 5]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import itertools

import numpy as np

from tests.pricing.reference import edge_grid, quantlib_fd_american
from workflows.pricing import solve, valuation
from workflows.settings import DEFAULT_UNDERLYINGS
from workflows.simulator.app import models

#: Error floors per Greek (relative error = |ours - QuantLib| / max(|QuantLib|, floor)).
FLOORS = {"delta": 0.01, "gamma": 1e-3, "theta": 1e-3, "vega": 1e-2}


def butterflies(
    strike: np.ndarray, price: np.ndarray, ask: np.ndarray, bid: np.ndarray
) -> tuple[int, int, int]:
    """(butterflies, negative at the model, credit at the quotes) over one expiry's strikes, sorted; the
    model's fair value is rounded to 4 decimals, so a butterfly is negative below -1e-4."""
    k1, k2, k3 = strike[:-2], strike[1:-1], strike[2:]
    w1, w3 = (k3 - k2) / (k3 - k1), (k2 - k1) / (k3 - k1)
    model = w1 * price[:-2] + w3 * price[2:] - price[1:-1]
    quotes = w1 * ask[:-2] + w3 * ask[2:] - bid[1:-1]
    return len(model), int((model < -1e-4).sum()), int((quotes < -1e-9).sum())


def surface(day: dt.date, sessions: int) -> dict[str, int]:
    options = models(7, DEFAULT_UNDERLYINGS, 3000).options
    market = options.market
    last = market.session_index(day)
    assert last is not None
    out: collections.Counter[str] = collections.Counter()
    for i in range(last - sessions + 1, last + 1):
        d = dt.date.fromisoformat(str(market.sessions[i]))
        for u in DEFAULT_UNDERLYINGS:
            chain = options.chain(u, d)
            if chain is None:
                continue
            c, q = chain.contracts, chain.quotes
            live = q.years > 0
            ords = np.full(len(c), (d - dt.date(1970, 1, 1)).days)
            rate = options.carry.rates(ords, q.years)
            dy = options.carry.dividend_yield(u, np.full(len(c), i))
            expiries = np.unique(c.expiration[live])
            for call in (True, False):
                for e in expiries:
                    m = np.nonzero((c.expiration == e) & (c.call == call))[0]
                    m = m[np.argsort(c.strike[m])]
                    if len(m) < 3:
                        continue
                    n, model, quotes = butterflies(c.strike[m], q.fmv[m], q.ask[m], q.bid[m])
                    out["butterflies"] += n
                    out["negative_model"] += model
                    out["tradeable_quotes"] += quotes
                    # calendar: the next expiry at the same strike
                    later = expiries[expiries > e]
                    if len(later):
                        nxt = np.nonzero((c.expiration == later[0]) & (c.call == call))[0]
                        common, a, b = np.intersect1d(c.strike[m], c.strike[nxt], return_indices=True)
                        out["calendar_pairs"] += len(common)
                        out["calendar_price"] += int((q.fmv[nxt][b] < q.fmv[m][a] - 1e-4).sum())
                        out["calendar_quotes"] += int((q.ask[nxt][b] < q.bid[m][a]).sum())
            # total variance at the same forward log-moneyness, per adjacent expiry pair (calls; chords of
            # the shorter expiry's convex total variance bound it from above)
            k = np.log(c.strike / (q.spot * np.exp((rate - dy) * q.years)))
            w = q.iv**2 * q.years
            for e1, e2 in itertools.pairwise(expiries):
                a = np.nonzero((c.expiration == e1) & c.call & np.isfinite(w))[0]
                b = np.nonzero((c.expiration == e2) & c.call & np.isfinite(w))[0]
                if len(a) < 2:
                    continue
                a = a[np.argsort(k[a])]
                inside = b[(k[b] > k[a[0]]) & (k[b] < k[a[-1]])]
                shorter = np.interp(k[inside], k[a], w[a])
                out["variance_points"] += len(inside)
                out["variance_falling"] += int((w[inside] < shorter - 1e-12).sum())
    return dict(out)


def reasons(day: dt.date, sessions: int) -> dict[str, dict[str, int]]:
    from bench.greeks import chain_rows

    rows = chain_rows(day, sessions)
    options = models(7, DEFAULT_UNDERLYINGS, 3000).options
    market = options.market
    last = market.session_index(day)
    assert last is not None
    closes = []
    for i in range(last - sessions + 1, last + 1):
        d = dt.date.fromisoformat(str(market.sessions[i]))
        for u in DEFAULT_UNDERLYINGS:
            chain = options.chain(u, d)
            if chain is not None:
                closes.append(chain.quotes.close)
    out = {}
    for basis, price in (("midpoint", rows["mid"]), ("close", np.concatenate(closes))):
        solved = solve(True, rows["call"], rows["s"], rows["k"], rows["t"], rows["r"], rows["q"], price)
        counts = collections.Counter("solved" if r is None else str(r) for r in solved.reason)
        out[basis] = dict(sorted(counts.items(), key=lambda kv: -kv[1]))
    return out


def greek_errors() -> dict[str, dict[str, tuple[float, float, float, int]]]:
    g, near = edge_grid()
    ref = [quantlib_fd_american(row) for row in g.rows()]
    theirs = {key: np.array([r[key] for r in ref]) for key in ref[0]}
    ours = valuation(True, g.call, g.s, g.k, g.t, g.r, g.q, g.vol)
    intrinsic = np.maximum(np.where(g.call, g.s - g.k, g.k - g.s), 0.0)
    alive = (ours.price - intrinsic >= 0.005) & (theirs["price"] - intrinsic >= 0.005)
    out: dict[str, dict[str, tuple[float, float, float, int]]] = {}
    for where, mask in (("near the boundary", alive & near), ("elsewhere", alive & ~near)):
        out[where] = {}
        for name, floor in FLOORS.items():
            err = np.abs(getattr(ours, name)[mask] - theirs[name][mask]) / np.maximum(
                np.abs(theirs[name][mask]), floor
            )
            out[where][name] = (
                float(np.median(err)),
                float(np.quantile(err, 0.95)),
                float(err.max()),
                int(mask.sum()),
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 12, 4))
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--skip", default="", help="comma-separated sections to skip: surface,reasons,greeks")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    if "surface" not in skip:
        print("## Static arbitrage of the simulated surface", surface(args.day, args.sessions))
    if "reasons" not in skip:
        for basis, counts in reasons(args.day, args.sessions).items():
            n = sum(counts.values())
            print(f"## Reasons ({basis}): {n:,} rows, solved {counts.get('solved', 0) / n:.2%}", counts)
    if "greeks" not in skip:
        print("## Greeks vs QuantLib FD (relative error: median / p95 / max, rows)")
        for where, per in greek_errors().items():
            for name, (med, p95, mx, n) in per.items():
                print(f"{where:18s} {name:6s} {med:.2e} {p95:.2e} {mx:.2e} n={n}")


if __name__ == "__main__":
    main()
