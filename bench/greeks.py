"""Benchmark: implied volatility and Greeks of a year of the default universe, per core.

1. Throughput: the simulator's real chains (20 default underlyings) over a window of sessions, priced with
   the served rates and dividends, quoted in cents; ``workflows.pricing.solve`` on them in one process (one
   core). Reported: solved contract-days per second, the projection for the default universe's year
   (about 3 million contract-days), and the share solved vs NULL by reason.
2. Libraries on a sample of the same rows, per row: ours (vectorised numpy/scipy), QuantLib's American engine
   (one option at a time, implied volatility by its solver), vollib (Jäckel's "Let's be rational", European,
   one at a time), and py_vollib_vectorized when it is importable.
3. IV agreement with the vendor: the simulator's served IV against the IV solved from the quote midpoint,
   by moneyness bucket (the marts' buckets), median / 95th percentile / max absolute gap in vol.

    .venv/bin/python bench/greeks.py [--day 2026-11-24] [--sessions 20] [--sample 2000]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import time

import numpy as np

from workflows.pricing import solve
from workflows.settings import DEFAULT_UNDERLYINGS
from workflows.simulator.app import models

YEAR_CONTRACT_DAYS = 3_000_000
ATM, DEEP = 0.02, 0.10  # dbt vars atm_log_moneyness_tolerance and deep_log_moneyness_threshold


def chain_rows(day: dt.date, sessions: int) -> dict[str, np.ndarray]:
    """Every contract-day of the default universe over ``sessions`` sessions ending on ``day``."""
    options = models(7, DEFAULT_UNDERLYINGS, 3000).options
    market = options.market
    last = market.session_index(day)
    assert last is not None
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("call", "s", "k", "t", "r", "q", "mid", "iv")}
    for i in range(last - sessions + 1, last + 1):
        d = dt.date.fromisoformat(str(market.sessions[i]))
        for u in DEFAULT_UNDERLYINGS:
            chain = options.chain(u, d)
            if chain is None:
                continue
            c, q = chain.contracts, chain.quotes
            ords = np.full(len(c), (d - dt.date(1970, 1, 1)).days)
            cols["call"].append(c.call)
            cols["s"].append(q.spot)
            cols["k"].append(c.strike)
            cols["t"].append(q.years)
            cols["r"].append(options.carry.rates(ords, q.years))
            cols["q"].append(options.carry.dividend_yield(u, np.full(len(c), i)))
            cols["mid"].append(np.round((q.bid + q.ask) / 2, 4))
            cols["iv"].append(q.iv)
    return {k: np.concatenate(v) for k, v in cols.items()}


def bucket(call: np.ndarray, s: np.ndarray, k: np.ndarray) -> np.ndarray:
    x = np.round(np.log(s / k), 8)
    itm = np.where(call, x > 0, x < 0)
    return np.where(np.abs(x) <= ATM, "atm", np.where(np.abs(x) > DEEP, np.where(itm, "deep_itm", "deep_otm"),
                                                       np.where(itm, "itm", "otm")))  # fmt: skip


def libraries(rows: dict[str, np.ndarray], sample: int) -> list[tuple[str, float]]:
    pick = np.nonzero(rows["t"] > 0)[0][:sample]
    call, s, k, t, r, q, p = (rows[n][pick] for n in ("call", "s", "k", "t", "r", "q", "mid"))
    out = []
    started = time.perf_counter()
    solve(True, call, s, k, t, r, q, p)
    out.append(
        (
            "workflows.pricing (vectorised, American, IV + 4 Greeks)",
            len(pick) / (time.perf_counter() - started),
        )
    )
    try:
        import QuantLib as ql

        today = ql.Date(2, 1, 2025)
        ql.Settings.instance().evaluationDate = today
        dc = ql.Actual365Fixed()
        started = time.perf_counter()
        for j in range(len(pick)):
            spot = ql.SimpleQuote(float(s[j]))
            rate = ql.YieldTermStructureHandle(ql.FlatForward(today, float(r[j]), dc, ql.Continuous))
            div = ql.YieldTermStructureHandle(ql.FlatForward(today, float(q[j]), dc, ql.Continuous))
            vol = ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), 0.3, dc))
            process = ql.BlackScholesMertonProcess(ql.QuoteHandle(spot), div, rate, vol)
            kind = ql.Option.Call if call[j] else ql.Option.Put
            days = max(round(t[j] * 365), 1)
            option = ql.VanillaOption(
                ql.PlainVanillaPayoff(kind, float(k[j])), ql.AmericanExercise(today, today + days)
            )
            option.setPricingEngine(ql.BjerksundStenslandApproximationEngine(process))
            with contextlib.suppress(RuntimeError):
                option.impliedVolatility(float(p[j]), process, 1e-8, 200, 1e-4, 5.0)
        out.append(("QuantLib 1.x, Bjerksund-Stensland engine, IV only, one option at a time",
                    len(pick) / (time.perf_counter() - started)))  # fmt: skip
    except ImportError:
        pass
    try:
        from vollib.black_scholes_merton.implied_volatility import implied_volatility

        started = time.perf_counter()
        for j in range(len(pick)):
            try:
                implied_volatility(float(p[j]), float(s[j]), float(k[j]), float(t[j]), float(r[j]), float(q[j]),
                                   "c" if call[j] else "p")  # fmt: skip
            except Exception:
                continue
        out.append(("vollib (Let's be rational), European, IV only, one option at a time",
                    len(pick) / (time.perf_counter() - started)))  # fmt: skip
    except ImportError:
        pass
    try:
        import py_vollib_vectorized  # type: ignore[import-not-found]  # noqa: F401
        from py_vollib_vectorized import vectorized_implied_volatility

        started = time.perf_counter()
        vectorized_implied_volatility(p, s, k, t, r, np.where(call, "c", "p"), q=q, model="black_scholes_merton",
                                      return_as="numpy")  # fmt: skip
        out.append(
            ("py_vollib_vectorized (numba), European, IV only", len(pick) / (time.perf_counter() - started))
        )
    except ImportError:
        out.append(("py_vollib_vectorized: not installed (needs numba; European only)", float("nan")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 11, 24))
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--sample", type=int, default=2000)
    args = parser.parse_args()

    rows = chain_rows(args.day, args.sessions)
    n = len(rows["mid"])
    started = time.perf_counter()
    solved = solve(True, rows["call"], rows["s"], rows["k"], rows["t"], rows["r"], rows["q"], rows["mid"])
    seconds = time.perf_counter() - started
    rate = n / seconds
    print(f"## Throughput: {n:,} contract-days ({args.sessions} sessions x 20 underlyings), one process")
    print(f"solve (IV + delta, gamma, theta, vega): {seconds:.1f} s, {rate:,.0f} contract-days/s per core")
    print(f"projection, {YEAR_CONTRACT_DAYS:,} contract-days: {YEAR_CONTRACT_DAYS / rate:.0f} s on one core, "
          f"{YEAR_CONTRACT_DAYS / rate / 2:.0f} s on two")  # fmt: skip
    print("\n## Share solved vs NULL by reason")
    reasons, counts = np.unique(
        np.where(solved.solved, "solved", solved.reason.astype(str)), return_counts=True
    )
    for reason, count in sorted(zip(reasons.tolist(), counts.tolist(), strict=True), key=lambda x: -x[1]):
        print(f"| {reason} | {count:,} | {count / n:.1%} |")

    print("\n## Libraries, per row, on the first", args.sample, "live rows")
    for name, per_second in libraries(rows, args.sample):
        print(f"| {name} | {per_second:,.0f} rows/s |")

    print("\n## IV agreement with the vendor (the simulator's served IV), by moneyness bucket")
    both = solved.solved & np.isfinite(rows["iv"])
    gap = np.abs(solved.iv - rows["iv"])
    buckets = bucket(rows["call"], rows["s"], rows["k"])
    for name in ("deep_itm", "itm", "atm", "otm", "deep_otm"):
        sel = both & (buckets == name)
        g = gap[sel]
        print(f"| {name} | {sel.sum():,} | {np.median(g):.5f} | {np.quantile(g, 0.95):.5f} | {g.max():.4f} |")


if __name__ == "__main__":
    main()
