"""The chain of custody of a mart row: from the number on screen back to the request that fetched it.

``trace(warehouse, lake, key, day)`` follows one key (an option contract ``O:…`` or a stock ticker) and
trading day down the models that made it (mart → intermediate → staging, each with its key), to the landing
row in the raw tables (``source_file``, ``source_row``), the lake part and line it was loaded from, the
manifest that listed the part (its sha256, as the load ledger recorded it), and the request recorded in the
line's ``_meta`` (request id, path and query, fetched-at, source). For an option it adds what its computed
Greeks were solved from (price and basis, spot, rate, dividend yield, time) and why they are NULL when they
are; for a stock, the splits that adjust the bar. Flat-file bars end at the vendor's object (bucket, key,
ETag) that the manifest names.

Every warehouse query is plain SQL with bound parameters over the dbt schemas and ``raw``, so the same text
runs on DuckDB and on Snowflake (whose connector takes ``%s`` marks: :func:`_marks`); JSON is read back
whole and parsed here rather than with either engine's path syntax. The lake is read once per landing row,
and the line is checked to be the one the warehouse holds. Nothing here prints or keeps a credential: the
request is the path and query the ingest stored (``polygon.urls.request_target``), and :func:`_no_key`
refuses a trace that would show an ``apiKey`` parameter.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from workflows.lake import Lake
from workflows.lake.keys import FLATFILE_DATASETS, MANIFEST_PREFIX, RAW_PREFIX
from workflows.polygon.urls import KEY_PARAMS
from workflows.pricing import REASON_TEXT
from workflows.warehouse.base import Warehouse


class TraceError(LookupError):
    """The key has no mart row that day, or its lineage is broken; the message says which and what to do."""


@dataclass
class ModelRow:
    """One model's row on the path: which model, which key, and the columns that carry the value down."""

    model: str
    key: dict[str, Any]
    row: dict[str, Any]


@dataclass
class LandingRow:
    """A raw row, its lake part and line, the manifest and ledger entry, and the request it came from."""

    role: str  # what the row supplies: "option bar", "underlying bar", "stock bar", "split"
    table: str
    source_file: str
    source_row: int
    loaded_at: str | None
    values: dict[str, Any]  # the line as the warehouse holds it (the API item, or the flat file's columns)
    request: dict[str, Any]  # _meta: source, endpoint, request (path?query), request_id, fetched_at
    manifest_key: str
    manifest_sha256: str | None
    part_sha256: str | None
    ledger: dict[str, Any] | None
    origin: dict[str, Any] | None = None  # a flat file's vendor object: bucket, key, etag, last_modified
    lake_line: str | None = None  # the line read back from the lake part


@dataclass
class Trace:
    key: str
    trade_date: dt.date
    kind: str  # "option" or "stock"
    mart: ModelRow
    models: list[ModelRow] = field(default_factory=list)
    landing: list[LandingRow] = field(default_factory=list)
    greeks: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values (dates as ISO text, decimals as text), the shape of ``smelt trace --json``."""
        plain: dict[str, Any] = json.loads(json.dumps(asdict(self), default=_plain))
        return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _rows(warehouse: Warehouse, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return warehouse.fetch_records(sql.replace("?", warehouse.placeholder), params)


def _one(warehouse: Warehouse, sql: str, params: list[Any], what: str) -> dict[str, Any]:
    rows = _rows(warehouse, sql, params)
    if not rows:
        raise TraceError(what)
    return rows[0]


def _no_key(text: str | None) -> str | None:
    """A stored request, refused if it would show a key (the ingest never stores one; this keeps it so)."""
    if text and any(f"{name}=" in text.lower() for name in KEY_PARAMS):
        raise TraceError("a landing row's request carries an API key parameter; refusing to print it")
    return text


def manifest_key_of(source_file: str) -> str:
    """The manifest that lists a part: ``raw/polygon/<partition>/part-NNNNN-<run>.<sfx>`` →
    ``raw/_manifests/<partition>/<run>.json`` (workflows/lake/keys.py)."""
    folder, _, name = source_file.rpartition("/")
    run_id = name.split("-", 2)[2].split(".", 1)[0]
    return f"{MANIFEST_PREFIX}/{folder.removeprefix(RAW_PREFIX + '/')}/{run_id}.json"


def trace(warehouse: Warehouse, lake: Lake, key: str, day: dt.date) -> Trace:
    """The chain of custody of ``key`` (``O:…`` an option contract, else a stock ticker) on ``day``."""
    key = key.strip()  # as written: tickers are case-sensitive (preferred shares: XpF)
    if key.startswith("O:"):
        return _trace_option(warehouse, lake, key, day)
    return _trace_stock(warehouse, lake, key, day)


_INPUT_COLUMNS = (
    "option_price", "option_price_basis", "underlying_price", "strike_price", "contract_type", "years_to_expiry",
    "exercise_model", "risk_free_rate", "dividend_yield",
)  # fmt: skip
_RESULT_COLUMNS = (
    "greeks_source", "implied_volatility", "delta", "gamma", "theta", "vega", "computed_status",
    "computed_implied_volatility", "vendor_implied_volatility",
)  # fmt: skip


def _trace_option(warehouse: Warehouse, lake: Lake, ticker: str, day: dt.date) -> Trace:
    out, where = _start(
        warehouse, "option", "mart_option_chain", "option_ticker", ticker, day,
        "check the symbol (OCC, e.g. O:SPY261224C00600000) and that the day was loaded and transformed "
        "(smelt run --start/--end)",
    )  # fmt: skip
    for model in (
        "int_options__option_greeks_daily",
        "int_options__pricing_inputs",
        "int_polygon__option_chain_daily",
    ):
        _model(out, warehouse, f"intermediate.{model}", where)
    prov = _one(
        warehouse, f"SELECT * FROM intermediate.int_options__provenance {where}", [ticker, day],
        f"no provenance row for {ticker} on {day}: the warehouse was built before lineage was modelled; "
        "run `smelt transform` to build int_options__provenance",
    )  # fmt: skip
    _model(out, warehouse, f"staging.{_STAGING[prov['landing_table']]}", where)
    out.landing.append(_landing(warehouse, lake, "option bar", prov["landing_table"], prov["source_file"],
                                prov["source_row"]))  # fmt: skip
    if prov.get("underlying_source_file"):
        out.landing.append(_landing(warehouse, lake, "underlying bar", prov["underlying_landing_table"],
                                    prov["underlying_source_file"], prov["underlying_source_row"]))  # fmt: skip
    mart = out.mart.row
    out.greeks = {
        "status": mart.get("computed_status"),
        "reason": REASON_TEXT.get(str(mart.get("computed_status")), None),
        "inputs": {c: mart.get(c) for c in _INPUT_COLUMNS},
        "results": {c: mart.get(c) for c in _RESULT_COLUMNS},
    }
    return out


def _trace_stock(warehouse: Warehouse, lake: Lake, ticker: str, day: dt.date) -> Trace:
    out, where = _start(
        warehouse, "stock", "mart_stock_daily", "ticker", ticker, day,
        "check the ticker (case matters) and that the day was loaded and transformed",
    )  # fmt: skip
    _model(out, warehouse, "intermediate.int_polygon__stock_bars_adjusted", where)
    for table, staging in (("polygon_stock_bars", "stg_polygon__stock_bars"),
                           ("polygon_stock_day_aggs", "stg_polygon__stock_day_aggs")):  # fmt: skip
        staged = _model(out, warehouse, f"staging.{staging}", where)
        if staged:  # the REST bar wins where both landed (dbt/macros/day_bars.sql)
            out.landing.append(_landing(warehouse, lake, "stock bar", table, staged["_source_file"],
                                        staged["_source_row"]))  # fmt: skip
            break
    splits = _rows(
        warehouse, "SELECT * FROM staging.stg_polygon__stock_splits WHERE ticker = ? AND execution_date > ? "
        "AND execution_date <= (SELECT max(trade_date) FROM intermediate.int_polygon__stock_bars_adjusted) "
        "ORDER BY execution_date", [ticker, day],
    )  # fmt: skip
    for split in splits:
        out.models.append(ModelRow("stg_polygon__stock_splits",
                                   {"ticker": ticker, "execution_date": split["execution_date"]},
                                   _lineage_subset(split)))  # fmt: skip
        out.landing.append(_landing(warehouse, lake, "split", "polygon_stock_splits", split["_source_file"],
                                    split["_source_row"]))  # fmt: skip
    return out


def _start(
    warehouse: Warehouse, kind: str, mart: str, column: str, key: str, day: dt.date, hint: str
) -> tuple[Trace, str]:
    """The trace's first step, the mart row, and the WHERE clause every model on the path shares."""
    where = f"WHERE {column} = ? AND trade_date = ?"
    row = _one(
        warehouse,
        f"SELECT * FROM marts.{mart} {where}",
        [key, day],
        f"no {mart} row for {key} on {day}: {hint}",
    )
    return Trace(key, day, kind, ModelRow(mart, {column: key, "trade_date": day}, row)), where


def _model(out: Trace, warehouse: Warehouse, table: str, where: str) -> dict[str, Any] | None:
    """A model's row for the trace's key, added to the path when the model has one."""
    rows = _rows(warehouse, f"SELECT * FROM {table} {where}", [out.key, out.trade_date])
    if rows:
        out.models.append(ModelRow(table.split(".", 1)[1], out.mart.key, _lineage_subset(rows[0])))
    return rows[0] if rows else None


_STAGING = {
    "polygon_option_snapshots": "stg_polygon__option_snapshots",
    "polygon_option_bars": "stg_polygon__option_bars",
    "polygon_option_day_aggs": "stg_polygon__option_day_aggs",
}
#: What a model row shows besides its lineage (the ``_`` columns): the values that carry the number down.
_CARRIED = {
    "data_origin", "open", "high", "low", "close", "vwap", "volume", "midpoint", "option_price", "option_price_basis",
    "underlying_price", "underlying_close", "years_to_expiry", "curve_date", "risk_free_rate", "dividend_yield",
    "exercise_model", "inputs_hash", "implied_volatility", "computed_implied_volatility", "computed_status",
    "split_adjustment_factor", "close_adj", "split_from", "split_to", "execution_date",
}  # fmt: skip


def _lineage_subset(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "_batch_at" and (k.startswith("_") or k in _CARRIED)}


def _landing(
    warehouse: Warehouse, lake: Lake, role: str, table: str, source_file: str, row: int
) -> LandingRow:
    dataset = table.removeprefix("polygon_")
    flat = dataset in FLATFILE_DATASETS
    value = "*" if flat else "CAST(record AS VARCHAR) AS record, trade_date, underlying, loaded_at"
    if warehouse.placeholder != "?" and not flat:  # Snowflake: a VARIANT as JSON text
        value = "TO_JSON(record) AS record, trade_date, underlying, loaded_at"
    found = _one(
        warehouse, f"SELECT {value} FROM raw.{table} WHERE source_file = ? AND source_row = ?",
        [source_file, int(row)], f"raw.{table} has no row {row} of {source_file}: the landing table was "
        "emptied or reloaded after the build; re-run `smelt load` for the day",
    )  # fmt: skip
    manifest_key = manifest_key_of(source_file)
    ledger = _rows(warehouse, "SELECT * FROM raw.smelt_loads WHERE manifest_key = ?", [manifest_key])
    manifest = lake.read_manifest(manifest_key)
    part = next((p for p in manifest.parts if p.key == source_file), None)
    if part is None:
        raise TraceError(f"{manifest_key} does not list {source_file}: the lake and the warehouse disagree")
    with lake.verified_part(part) as local:
        line = _line(local.read_bytes(), int(row), flat)
    if flat:
        values = {k: v for k, v in found.items() if k not in {"loaded_at"}}
        request = {"source": found.get("source"), "object": (manifest.stats or {}).get("origin")}
        origin = (manifest.stats or {}).get("origin")
    else:
        record = json.loads(found["record"])
        meta = record.pop("_meta", {}) or {}
        values = record
        request = {k: meta.get(k) for k in ("source", "endpoint", "request", "request_id", "fetched_at")}
        request["request"] = _no_key(request.get("request"))
        origin = None
    return LandingRow(
        role=role, table=f"raw.{table}", source_file=source_file, source_row=int(row),
        loaded_at=_plain(found["loaded_at"]) if found.get("loaded_at") else None, values=values, request=request,
        manifest_key=manifest_key, manifest_sha256=ledger[0]["sha256"] if ledger else None,
        part_sha256=part.sha256, ledger=ledger[0] if ledger else None, origin=origin, lake_line=line,
    )  # fmt: skip


def _line(compressed: bytes, number: int, flat: bool) -> str:
    """Line ``number`` (from 1) of a gzip part; of a flat file, the ``number``-th data line after the header."""
    lines = gzip.decompress(compressed).decode("utf-8").splitlines()
    index = number if flat else number - 1
    if not 0 <= index < len(lines):
        raise TraceError(f"the part has {len(lines)} lines; line {number} is not there")
    if flat:
        header = next(csv.reader(io.StringIO(lines[0])))
        cells = next(csv.reader(io.StringIO(lines[index])))
        return json.dumps(dict(zip(header, cells, strict=False)))
    return lines[index]


def render(found: Trace) -> str:
    """The trace as text for a terminal: one block per step down the chain, the request last in each."""
    data = found.as_dict()
    lines = [f"{found.key} on {found.trade_date} ({found.kind})", ""]
    mart = data["mart"]
    shown = {k: v for k, v in mart["row"].items() if v is not None}
    lines += [f"mart     {mart['model']} {_key(mart['key'])}", *_fields(shown, 9)]
    for model in data["models"]:
        lines += [f"model    {model['model']} {_key(model['key'])}"]
        lines += _fields(
            {k: v for k, v in model["row"].items() if k.startswith("_") or k == "data_origin"}, 9
        )
    if data["greeks"]:
        greeks = data["greeks"]
        lines += [f"greeks   computed_status={greeks['status']} ({greeks['reason']})", *_fields(greeks["inputs"], 9, "input  "),
                  *_fields(greeks["results"], 9, "result ")]  # fmt: skip
    for row in data["landing"]:
        lines += [
            f"landing  {row['role']}: {row['table']} row {row['source_row']} of {row['source_file']}",
            f"         loaded_at {row['loaded_at']}",
            f"lake     part {row['source_file']} line {row['source_row']} (sha256 {row['part_sha256']})",
            f"         manifest {row['manifest_key']} (sha256 {row['manifest_sha256']})",
            f"ledger   {_ledger(row['ledger'])}",
        ]
        if row["origin"]:
            origin = row["origin"]
            lines.append(f"origin   s3://{origin.get('bucket')}/{origin.get('key')} etag {origin.get('etag')} "
                         f"last_modified {origin.get('last_modified')}")  # fmt: skip
        else:
            req = row["request"]
            lines += [
                f"request  {req.get('request') or req.get('endpoint')}",
                f"         request_id {req.get('request_id')} fetched_at {req.get('fetched_at')} "
                f"source {req.get('source')}",
            ]
        lines += [f"line     {row['lake_line']}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _key(key: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in key.items()) + ")"


def _fields(values: dict[str, Any], indent: int, prefix: str = "") -> list[str]:
    return [f"{' ' * indent}{prefix}{k} = {v}" for k, v in values.items()]


def _ledger(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "(no ledger row: the manifest was not loaded by this warehouse)"
    return " ".join(
        f"{k}={entry[k]}" for k in ("dataset", "trade_date", "files", "rows", "loaded_at") if k in entry
    )
