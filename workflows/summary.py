"""A plain-text account of what landed, for ``make demo`` and for a person checking a run."""

from __future__ import annotations

from collections import Counter

from workflows.lake import Lake
from workflows.settings import Settings
from workflows.warehouse import TableStats, open_warehouse


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
    with open_warehouse(settings) as warehouse:
        tables = warehouse.table_stats(["raw", "marts"])
    if not tables:
        return [f"warehouse {settings.warehouse}: nothing loaded yet (run `smelt load`)"]
    return [f"warehouse {settings.warehouse}"] + ["  " + _describe(t) for t in tables]


def _describe(table: TableStats) -> str:
    text = f"{table.schema}.{table.table:<38} {table.rows:>10,} rows"
    if table.first_day:
        text += f"  {table.first_day} .. {table.last_day}"
    if table.sources:
        text += f"  source={','.join(table.sources)}"
    return text


def render(settings: Settings) -> str:
    lines = [f"smelt: source={settings.source} warehouse={settings.warehouse}"]
    lines += _lake_lines(settings) + _warehouse_lines(settings)
    if settings.source == "simulator":
        lines.append("note: every row above comes from the built-in market simulator, not from Polygon.")
    return "\n".join(lines) + "\n"
