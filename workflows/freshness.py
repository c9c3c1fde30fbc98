"""Source freshness judged by what the data in hand is expected to have, with failures that say why.

The sources YAML gives each source table its thresholds, as ``dbt source freshness`` reads them; smelt judges
them from the load ledger instead of invoking dbt (decision 123): the loader stamps a manifest's ledger row
and its landing rows in one transaction, so the ledger's newest load per dataset is the landing table's, read
for the cost of one row per manifest and without a third dbt invocation per transform. Not every source is expected to have rows:
chain snapshots exist only where daily snapshot runs happen, and a history built by backfills has option
bars instead (and the other way round), and one built from flat files has their stock day aggregates instead
of the REST grouped bars. So a source in :data:`OPTIONAL` with no rows at all is not judged, nor one in
:data:`FILLED_BY` whose alternative has rows; every other source is, by its newest row's load time. A
failure names the source, its newest row, its age and the threshold, instead of dbt's empty reason for a
source that has nothing to measure. :func:`as_records` is what the build summary publishes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: Sources that only some kinds of runs fill: daily snapshot runs, or backfills (REST range bars or flat files).
OPTIONAL = frozenset(
    {"polygon_option_snapshots", "polygon_option_bars", "polygon_stock_day_aggs", "polygon_option_day_aggs"}
)

#: Sources whose data may arrive through another source instead (the flat files' day aggregates).
FILLED_BY: dict[str, tuple[str, ...]] = {"polygon_stock_bars": ("polygon_stock_day_aggs",)}


@dataclass(frozen=True)
class Verdict:
    source: str
    status: str  # pass, warn, error, or skipped (optional and empty)
    message: str
    newest: dt.datetime | None = None  # the newest load judged; None when the source has none
    age_seconds: float | None = None


# -- the judgement, from the load ledger --------------------------------------------------------------------

#: dbt's freshness periods in seconds.
_PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rule:
    """A source table's freshness rule as the dbt project declares it (seconds; None = no such limit)."""

    source: str
    dataset: str | None  # the ledger dataset it lands from; None = any (the ledger itself)
    warn_after: float | None
    error_after: float | None
    text: str


def rules(project_dir: Path) -> list[Rule]:
    """The freshness rules of the project's sources with a ``loaded_at_field`` (tables with ``freshness:
    null`` have none), read from its YAML the way dbt resolves them: the table's own, else the source's."""
    found = []
    for path in sorted(project_dir.glob("models/**/*.yml")):
        for source in (yaml.safe_load(path.read_text()) or {}).get("sources", []) or []:
            default = _freshness_of(source)
            for table in source.get("tables", []) or []:
                own = _freshness_of(table)
                freshness = default if own is _UNSET else own
                if not freshness:
                    continue
                name = table["name"]
                dataset = None if name == "smelt_loads" else name.removeprefix("polygon_")
                warn, error = _limit(freshness.get("warn_after")), _limit(freshness.get("error_after"))
                text = ", ".join(f"{label} {limit['count']} {limit['period']}s"
                                 for label, limit in (("warn after", freshness.get("warn_after")),
                                                      ("error after", freshness.get("error_after"))) if limit)  # fmt: skip
                found.append(Rule(f"{source['name']}.{name}", dataset, warn, error, f"threshold: {text}"))
    return found


def judge_ledger(rules: list[Rule], newest: dict[str, dt.datetime], now: dt.datetime) -> list[Verdict]:
    """A verdict per rule from the newest ``loaded_at`` per dataset of ledger rows that landed files.

    The loader stamps a manifest's ledger row and its landing rows with the same ``loaded_at`` in one
    transaction, so the ledger's newest per dataset is the landing table's newest, read for the cost of the
    ledger (one row per manifest) instead of every landing table."""
    verdicts = []
    for rule in rules:
        stamps = list(newest.values()) if rule.dataset is None else [newest[rule.dataset]] if rule.dataset in newest else []  # fmt: skip
        table = rule.source.split(".", 1)[1]
        instead = [other for other in FILLED_BY.get(table, ()) if other.removeprefix("polygon_") in newest]
        if not stamps:
            if table in OPTIONAL:
                verdicts.append(Verdict(rule.source, "skipped", f"source {rule.source}: no rows, and none "
                                        "expected (filled only by snapshot runs or by backfills)"))  # fmt: skip
            elif instead:
                verdicts.append(Verdict(rule.source, "skipped", f"source {rule.source}: no rows; "
                                        f"{', '.join(instead)} has its data (flat files) and is judged instead"))  # fmt: skip
            else:
                verdicts.append(
                    Verdict(rule.source, "error", f"source {rule.source}: no rows at all; {rule.text}")
                )
            continue
        when = max(stamps).astimezone(dt.UTC)
        age = (now - when).total_seconds()
        status = (
            "error" if rule.error_after is not None and age > rule.error_after
            else "warn" if rule.warn_after is not None and age > rule.warn_after
            else "pass"
        )  # fmt: skip
        message = (
            f"source {rule.source}: newest row loaded {when:%Y-%m-%d %H:%M} UTC, {age / 3600:.1f} hours "
            f"({age / 86400:.1f} days) old; {rule.text}"
        )
        verdicts.append(Verdict(rule.source, status, message, when, age))
    return verdicts


def as_records(verdicts: list[Verdict], checked_at: dt.datetime) -> list[dict[str, Any]]:
    """The verdicts as the build summary publishes them (the quality page's freshness table)."""
    return [
        {
            "source": v.source,
            "status": v.status,
            "max_loaded_at": v.newest.isoformat() if v.newest else None,
            "age_hours": None if v.age_seconds is None else round(v.age_seconds / 3600, 1),
            "checked_at": checked_at.isoformat(),
            "message": v.message,
        }
        for v in verdicts
    ]


_UNSET: Any = object()


def _freshness_of(node: dict[str, Any]) -> Any:
    config = node.get("config") or {}
    if "freshness" in config:
        return config["freshness"]
    return node.get("freshness", _UNSET)


def _limit(limit: dict[str, Any] | None) -> float | None:
    return None if not limit else float(limit["count"]) * _PERIOD_SECONDS[str(limit["period"])]
