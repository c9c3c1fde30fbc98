"""A plain-text account of what landed, for ``make demo`` and for a person checking a run."""

from __future__ import annotations

from collections import Counter
from typing import Any

from workflows.lake import Lake
from workflows.settings import Settings


def _lake_lines(settings: Settings) -> list[str]:
    lake = Lake.open(settings.lake, settings.s3_endpoint_url)
    keys = lake.manifest_keys()
    per_dataset = Counter(k.split("/")[2] for k in keys)
    days = sorted({part.split("=", 1)[1] for k in keys for part in k.split("/") if part.startswith("dt=")})
    lines = [f"lake {lake.url}: {len(keys)} manifests"]
    if days:
        lines.append(f"  trading days {days[0]} .. {days[-1]} ({len(days)})")
    lines += [f"  {name:<18} {count:>6} manifests" for name, count in sorted(per_dataset.items())]
    return lines


def _warehouse_lines(settings: Settings) -> list[str]:
    import duckdb

    path = settings.duckdb_path
    if not path.exists():
        return [f"warehouse {path}: not created yet (run `smelt load`)"]
    lines = [f"warehouse {path.resolve()}"]
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'marts') order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            lines.append("  " + _describe_table(con, schema, table))
    return lines


def _describe_table(con: Any, schema: str, table: str) -> str:
    columns = {r[0] for r in con.execute(f"describe {schema}.{table}").fetchall()}
    rows = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
    text = f"{schema}.{table:<38} {rows:>10,} rows"
    if "trade_date" in columns and rows:
        lo, hi = con.execute(f"select min(trade_date), max(trade_date) from {schema}.{table}").fetchone()
        text += f"  {lo} .. {hi}"
    if "source" in columns and rows:
        sources = [r[0] for r in con.execute(f"select distinct source from {schema}.{table}").fetchall()]
        text += f"  source={','.join(sorted(map(str, sources)))}"
    return text


def render(settings: Settings) -> str:
    lines = [f"smelt: source={settings.source} warehouse={settings.warehouse}"]
    lines += _lake_lines(settings) + _warehouse_lines(settings)
    if settings.source == "simulator":
        lines.append("note: every row above comes from the built-in market simulator, not from Polygon.")
    return "\n".join(lines) + "\n"
