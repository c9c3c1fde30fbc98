"""The greeks step of the transform: solve every contract-day whose pricing inputs have no answer yet, and
land the answers in the lake as the ``option_greeks`` dataset, loaded like any other. The solving itself is
pure math in :mod:`workflows.pricing`; this module is its IO.

It reads ``intermediate.int_options__pricing_inputs`` (every input already chosen and traceable in dbt) for
the rows whose ``inputs_hash`` the staged answers lack, solves them with :func:`workflows.pricing.solve` in
chunks of whole (day, underlying) units bounded in rows (a whole-market day holds 1.4 million contract-days,
more than a step should hold in Python at once), and writes one manifest per (day, underlying). The warehouse can then be rebuilt from the lake
alone, and a second run finds nothing to do: answers are a pure function of their inputs. It reads with
portable SQL through the warehouse's ``fetch``, so the same code reads Snowflake.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workflows import logs
from workflows.lake import Lake, Source
from workflows.pricing import solve
from workflows.warehouse import Warehouse

log = logs.get_logger("smelt.greeks")

DATASET = "option_greeks"
ENDPOINT = "smelt:workflows.pricing"
#: Which model answered, per exercise style (stored per row).
MODELS = {"american": "bjerksund_stensland_1993", "european": "black_scholes_merton"}
#: Rows solved per chunk: bounds Python memory (about 1 KB a row read and written) whatever a day holds, 12,000
#: contract-days for the default universe or 1.4 million for the whole market. A chunk is whole (day, underlying)
#: units, so each lands as one manifest; a unit larger than this (no underlying lists that many) is one chunk.
ROWS_PER_CHUNK = 200_000

PENDING_SQL = """
select i.option_ticker, i.trade_date, i.underlying, i.contract_type, i.exercise_model, i.strike_price,
       i.underlying_price, i.years_to_expiry, i.option_price, i.risk_free_rate, i.dividend_yield, i.inputs_hash,
       i.source
from intermediate.int_options__pricing_inputs as i
where true {answered} {days}
order by i.trade_date, i.underlying, i.option_ticker
"""
COLUMNS = ("option_ticker", "trade_date", "underlying", "contract_type", "exercise_model", "strike_price",
           "underlying_price", "years_to_expiry", "option_price", "risk_free_rate", "dividend_yield",
           "inputs_hash", "source")  # fmt: skip
ANSWERED = """and not exists (
    select 1 from staging.stg_smelt__option_greeks as g
    where g.option_ticker = i.option_ticker and g.trade_date = i.trade_date and g.inputs_hash = i.inputs_hash
)"""


@dataclass
class GreeksReport:
    rows: int = 0
    solved: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    days: list[dt.date] = field(default_factory=list)
    seconds: float = 0.0
    solve_seconds: float = 0.0


def compute_greeks(warehouse: Warehouse, lake: Lake, run_id: str) -> GreeksReport:
    """Solve the pending contract-days and land them in the lake (the caller loads the days returned).

    ``run_id`` should be the greeks' own: a retried transform then never collides with its first attempt.
    """
    report = GreeksReport()
    started = time.perf_counter()
    if not _exists(warehouse, "intermediate", "int_options__pricing_inputs"):
        return report
    answered = ANSWERED if _exists(warehouse, "staging", "stg_smelt__option_greeks") else ""
    pending = PENDING_SQL.format(answered=answered, days="")
    units = warehouse.fetch(
        f"select trade_date, underlying, count(*) from ({pending}) as p group by 1, 2 order by 1, 2"
    )
    for first, last in chunks([(_as_date(d), str(u), int(n)) for d, u, n in units], ROWS_PER_CHUNK):
        pending_rows = PENDING_SQL.format(answered=answered, days=_between(first, last))
        _solve_and_land(lake, run_id, warehouse.fetch_columns(pending_rows, COLUMNS, FLOAT_COLUMNS), report)
    report.seconds = round(time.perf_counter() - started, 3)
    log.info("greeks computed", rows=report.rows, solved=report.solved, reasons=report.reasons,
             days=len(report.days), seconds=report.seconds, solve_seconds=round(report.solve_seconds, 3))  # fmt: skip
    return report


Unit = tuple[dt.date, str]


def chunks(units: list[tuple[dt.date, str, int]], limit: int) -> list[tuple[Unit, Unit]]:
    """Runs of consecutive (day, underlying) units (in that order) of at most ``limit`` rows each, as their
    first and last unit: a chunk's rows are then one range of the pending query's order."""
    out: list[tuple[Unit, Unit]] = []
    start: Unit | None = None
    rows = 0
    previous: Unit | None = None
    for day, underlying, n in units:
        if start is not None and previous is not None and rows + n > limit:
            out.append((start, previous))
            start, rows = None, 0
        if start is None:
            start = (day, underlying)
        rows += n
        previous = (day, underlying)
    if start is not None and previous is not None:
        out.append((start, previous))
    return out


def _between(first: Unit, last: Unit) -> str:
    """The rows from unit ``first`` to unit ``last`` (both included), in portable SQL."""
    (d1, u1), (d2, u2) = first, last
    day1, day2 = f"cast('{d1}' as date)", f"cast('{d2}' as date)"
    q1, q2 = _quoted(u1), _quoted(u2)
    return (
        f"and (i.trade_date > {day1} or (i.trade_date = {day1} and i.underlying >= {q1})) "
        f"and (i.trade_date < {day2} or (i.trade_date = {day2} and i.underlying <= {q2}))"
    )


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _exists(warehouse: Warehouse, schema: str, table: str) -> bool:
    found = warehouse.fetch("select count(*) from information_schema.tables "
                      f"where upper(table_schema) = '{schema.upper()}' and upper(table_name) = '{table.upper()}'")  # fmt: skip
    return bool(found and found[0][0])


FLOAT_COLUMNS = frozenset({"strike_price", "underlying_price", "years_to_expiry", "option_price", "risk_free_rate",
                           "dividend_yield"})  # fmt: skip


def _solve_and_land(lake: Lake, run_id: str, t: dict[str, Any], report: GreeksReport) -> None:
    n = len(t["option_ticker"])
    if n == 0:
        return
    started = time.perf_counter()
    american = np.asarray(t["exercise_model"], dtype=object) != "european"
    call = np.asarray(t["contract_type"], dtype=object) == "call"
    floats = {k: t[k] for k in FLOAT_COLUMNS}
    solution = solve(american, call, floats["underlying_price"], floats["strike_price"], floats["years_to_expiry"],
                     floats["risk_free_rate"], floats["dividend_yield"], floats["option_price"])  # fmt: skip
    report.solve_seconds += time.perf_counter() - started
    report.rows += n
    report.solved += int(solution.solved.sum())
    for reason in solution.reason[~solution.solved].tolist():
        report.reasons[reason] = report.reasons.get(reason, 0) + 1
    fetched_at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    # one list per column, built once: the loop below then costs a dict per row and nothing else
    tickers = t["option_ticker"].tolist()
    columns = {
        "implied_volatility": _json_floats(solution.iv),
        **{name: _json_floats(getattr(solution, name)) for name in ("delta", "gamma", "theta", "vega")},
        "unsolved_reason": solution.reason.tolist(),
        "pricing_model": [MODELS["american" if a else "european"] for a in american.tolist()],
        "inputs_hash": t["inputs_hash"].tolist(),
    }
    days, underlyings, sources = t["trade_date"].tolist(), t["underlying"].tolist(), t["source"].tolist()
    for first, end in _units(days, underlyings):  # the rows come sorted by (day, underlying)
        day, underlying = _as_date(days[first]), str(underlyings[first])
        # simulated inputs give simulated answers: the label follows the rows, whatever the source setting
        row_source: Source = "polygon" if all(x == "polygon" for x in sources[first:end]) else "simulator"
        key = {"trade_date": day.isoformat(), "underlying": underlying}
        with lake.writer(DATASET, day, underlying, run_id, row_source) as writer:
            answers = [columns[name][first:end] for name in ANSWER_COLUMNS]
            for ticker, *answer in zip(tickers[first:end], *answers, strict=True):
                writer.write(
                    {"option_ticker": ticker, **key, **dict(zip(ANSWER_COLUMNS, answer, strict=True))},
                    endpoint=ENDPOINT,
                    request_id=run_id,
                    fetched_at=fetched_at,
                )
        if day not in report.days:
            report.days.append(day)


#: The answer's columns after the key, in the order each line holds them.
ANSWER_COLUMNS = ("implied_volatility", "delta", "gamma", "theta", "vega", "unsolved_reason", "pricing_model",
                  "inputs_hash")  # fmt: skip


def _units(days: list[Any], underlyings: list[Any]) -> list[tuple[int, int]]:
    """The [first, end) row ranges of each (day, underlying) in rows sorted by both."""
    bounds = [
        i for i in range(1, len(days)) if days[i] != days[i - 1] or underlyings[i] != underlyings[i - 1]
    ]
    starts = [0, *bounds]
    return list(zip(starts, [*bounds, len(days)], strict=True))


def _json_floats(values: np.ndarray) -> list[float | None]:
    """NaN and infinities never reach the lake: they become JSON null."""
    return [v if math.isfinite(v) else None for v in values.tolist()]  # math: 10x numpy's cost per scalar


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
