"""The Runs page, `smelt runs`, the freshness SLA (the quality page and /readyz) and the readiness checks.

The fast tests build run reports by hand into a throwaway SMELT_HOME; the slow ones read the report that the
session's `smelt run` stored, and judge the built marts at pinned clocks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dashboard.app import create_app
from dashboard.config import load_dashboard_settings
from dashboard.freshness import FreshnessSla
from dashboard.marts import SnapshotSource
from dashboard.pages import PAGES, quality, runs
from dashboard.queries import Queries
from tests.dashboard.support import END, SIM_NOW
from workflows import run_reports
from workflows.cli import app as cli
from workflows.marts_contract import snapshot_folder
from workflows.run_reports import FailedNode, StepTime, run_report
from workflows.settings import Settings, load_settings

UTC = dt.UTC


def _store(settings: Settings, run_id: str, status: str, started: dt.datetime, days: list[dt.date],
           failed: list[FailedNode] | None = None, steps: list[StepTime] | None = None,
           steps_unavailable: str | None = None) -> dict[str, Any]:  # fmt: skip
    report = run_report(run_id=run_id, kind="daily", status=status, source="simulator", started_at=started,
                        finished_at=started + dt.timedelta(minutes=14, seconds=2), days=days,
                        rows_by_dataset={"stock_bars": 10_000, "option_snapshots": 2_345}, failed=failed or [],
                        steps=steps or [], steps_unavailable=steps_unavailable)  # fmt: skip
    run_reports.store(settings, report)
    return report


def _attempt(step: str, node: str, phase: str, start: str, seconds: float | None, code: int | None,
             attempt: int = 1, attempts: int = 1) -> StepTime:  # fmt: skip
    begun = dt.datetime.fromisoformat(f"2026-11-27T{start}+00:00")
    ended = (begun + dt.timedelta(seconds=seconds)).isoformat() if seconds is not None else None
    return StepTime(step, step, node, phase, begun.isoformat(), ended, seconds, code, attempt, attempts)


#: The failed run's step attempts, as the exit handler reads them from the Workflow: load failed once (1),
#: was retried and failed for good (3); the exit handler's own pod is still running.
STEPS = [
    _attempt("ingest-stocks", "ingest-stocks(0)", "Succeeded", "23:30:10", 42.0, 0),
    _attempt("load", "load(0)", "Failed", "23:31:00", 61.5, 1, 1, 2),
    _attempt("load", "load(1)", "Failed", "23:32:20", 125.0, 3, 2, 2),
    _attempt("onExit", "smelt-daily-bbbbb.onExit(0)", "Running", "23:44:00", None, None),
]


@pytest.fixture
def two_runs(tmp_path: Path) -> Settings:
    settings = load_settings(home=tmp_path / "home")
    _store(settings, "smelt-daily-aaaaa", "Succeeded", dt.datetime(2026, 11, 25, 23, 30, tzinfo=UTC),
           [dt.date(2026, 11, 25)], steps_unavailable="403: the pod's ServiceAccount may not get workflows")  # fmt: skip
    _store(settings, "smelt-daily-bbbbb", "Failed", dt.datetime(2026, 11, 27, 23, 30, tzinfo=UTC),
           [dt.date(2026, 11, 27)], [FailedNode("run-day(0).load", "load", "Error (exit code 3)", 3)], STEPS)  # fmt: skip
    return settings


def _text(component: Any) -> str:
    """Every string inside a Dash component tree."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(_text(c) for c in component)
    children = getattr(component, "children", None)
    return _text(children) if children is not None else ""


def _find(component: Any, kind: str) -> list[Any]:
    """Every component of type ``kind`` (html.Details, ...) in a tree."""
    found = [component] if type(component).__name__ == kind else []
    children = getattr(component, "children", None)
    for child in (
        children if isinstance(children, list | tuple) else [children] if children is not None else []
    ):
        found += _find(child, kind)
    return found


def _links(component: Any) -> list[str]:
    found = [component.href] if getattr(component, "href", None) else []
    children = getattr(component, "children", None)
    for child in (
        children if isinstance(children, list | tuple) else [children] if children is not None else []
    ):
        found += _links(child)
    return found


def test_runs_page_sits_before_quality_and_lists_newest_first(two_runs: Settings) -> None:
    assert [p.PATH for p in PAGES][-2:] == ["/runs", "/quality"]
    q = Queries.over(SnapshotSource(snapshot_folder(two_runs.home)))  # no marts published: runs still show
    page = runs.layout(q, {})
    assert page.children[0].data == "simulator"  # the simulated-data banner's store, as on the chart pages
    text = _text(page)
    assert "the 2 newest runs: 1 not succeeded" in text
    assert text.index("smelt-daily-bbbbb") < text.index("smelt-daily-aaaaa")
    assert "run-day(0).load (load, exit 3)" in text and "14m 02s" in text and "12,345" in text
    # the slowest step attempt, opening onto every attempt in start order; a run without them says so
    (details,) = _find(page, "Details")
    assert _text(details.children[0]) == "load (attempt 2 of 2) 2m 05s, failed"
    assert [_text(li) for li in details.children[1].children] == [
        "ingest-stocks 42s", "load (attempt 1 of 2) 1m 02s, failed", "load (attempt 2 of 2) 2m 05s, failed",
        "onExit not finished, running",
    ]  # fmt: skip
    assert details.children[1].children[2].title == "load(1) (load), exit 3"
    (unrecorded,) = [c for c in _find(page, "Span") if _text(c) == "not recorded"]
    assert unrecorded.title.startswith("403: the pod's ServiceAccount may not get workflows")
    assert _links(page) == [
        f"{path}?date={day}"
        for day in ("2026-11-27", "2026-11-25")
        for path in ("/market", "/chain", "/positioning")
    ]


def test_runs_page_without_reports_says_where_they_come_from(tmp_path: Path) -> None:
    q = Queries.over(SnapshotSource(snapshot_folder(tmp_path / "home")))
    assert "no run reports yet: `smelt run` stores one" in _text(runs.layout(q, {}))


def test_smelt_runs_prints_the_same_list_and_json(
    two_runs: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMELT_HOME", str(two_runs.home))
    table = CliRunner().invoke(cli, ["runs"])
    assert table.exit_code == 0, table.output
    header, newest, oldest = table.output.splitlines()
    assert header.split()[:3] == ["started", "(UTC)", "outcome"]
    assert newest.split()[:5] == ["2026-11-27", "23:30:00", "failed", "smelt-daily-bbbbb", "daily"]
    assert newest.endswith("run-day(0).load (exit 3)") and oldest.split()[2] == "succeeded"
    assert "load (attempt 2 of 2) 2m 05s, failed" in newest and "  -  " in oldest  # the slowest step
    with_steps = CliRunner().invoke(cli, ["runs", "--steps"]).output.splitlines()
    assert with_steps[2:6] == [
        "    23:30:10  ingest-stocks 42s", "    23:31:00  load (attempt 1 of 2) 1m 02s, failed",
        "    23:32:20  load (attempt 2 of 2) 2m 05s, failed", "    23:44:00  onExit not finished, running",
    ]  # fmt: skip
    assert with_steps[7] == "    no steps recorded: 403: the pod's ServiceAccount may not get workflows"
    as_json = CliRunner().invoke(cli, ["runs", "--json", "--limit", "1"])
    (report,) = json.loads(as_json.output)
    assert report["run_id"] == "smelt-daily-bbbbb" and report["failed_nodes"][0]["exit_code"] == 3


@pytest.mark.parametrize(
    ("now", "newest", "expected", "fresh"),
    [
        # Monday 2026-11-30 08:00 New York: Friday (an early close) is the newest session due
        (dt.datetime(2026, 11, 30, 13, 0, tzinfo=UTC), dt.date(2026, 11, 27), dt.date(2026, 11, 27), True),
        # Wednesday 2026-11-25 23:00 New York: Wednesday's close (21:00 UTC) plus 8 h has not passed yet
        (dt.datetime(2026, 11, 26, 4, 0, tzinfo=UTC), dt.date(2026, 11, 24), dt.date(2026, 11, 24), True),
        # Thursday 01:30 New York: Wednesday is due now, the marts still end on Tuesday
        (dt.datetime(2026, 11, 26, 6, 30, tzinfo=UTC), dt.date(2026, 11, 24), dt.date(2026, 11, 25), False),
        # Thanksgiving Friday morning: no session on Thursday, so Wednesday is still the one due
        (dt.datetime(2026, 11, 27, 14, 0, tzinfo=UTC), dt.date(2026, 11, 25), dt.date(2026, 11, 25), True),
        (dt.datetime(2026, 11, 27, 14, 0, tzinfo=UTC), None, dt.date(2026, 11, 25), False),
    ],
)
def test_the_sla_expects_the_newest_session_past_its_close_and_grace(
    now: dt.datetime, newest: dt.date | None, expected: dt.date, fresh: bool
) -> None:
    verdict = FreshnessSla(grace_hours=8).judge(newest, now)
    assert (verdict.expected, verdict.fresh) == (expected, fresh)
    if not fresh:
        assert verdict.message.startswith("late: ") and f"{expected} was due by" in verdict.message


def test_the_grace_setting_moves_the_deadline() -> None:
    now = dt.datetime(2026, 11, 26, 6, 30, tzinfo=UTC)  # Wednesday's close + 9.5 h
    assert not FreshnessSla(grace_hours=8).judge(dt.date(2026, 11, 24), now).fresh
    assert FreshnessSla(grace_hours=10).judge(dt.date(2026, 11, 24), now).fresh
    assert FreshnessSla.from_settings(load_settings(freshness_grace_hours=10, sim_now=END)).now() == (
        dt.datetime(
            2026, 11, 27, 18, 1, tzinfo=UTC
        )  # the pinned simulator's clock: just after an early close
    )


@pytest.mark.slow
def test_the_session_run_is_on_the_runs_page(built_home: Settings) -> None:
    q = Queries.over(SnapshotSource(snapshot_folder(built_home.home)))
    (report,) = q.runs()
    assert report["kind"] == "embedded" and report["status"] == "Succeeded" and report["last_day"] == str(END)
    assert [s["step"] for s in report["steps"]] == ["ingest", "load", "transform", "publish"]
    assert all(
        s["phase"] == "Succeeded" and s["seconds"] >= 0 and s["template"] == "smelt run"
        for s in report["steps"]
    )
    assert report["rows"] > 0 and not report["failed_nodes"]
    assert f"/chain?date={END}" in _links(runs.layout(q, {}))


@pytest.mark.slow
def test_readyz_and_the_quality_page_fail_the_sla_when_the_clock_moves_past_the_marts(
    built_home: Settings,
) -> None:
    on_time = create_app(built_home, load_dashboard_settings()).server.test_client().get("/readyz")
    assert on_time.status_code == 200 and on_time.json["newest_day"] == str(END)

    # without a clock of its own the dashboard takes the build's: the simulator day it was published on
    assert json.loads(
        (snapshot_folder(built_home.home) / on_time.json["version"] / "build.json").read_text()
    )["sim_now"] == str(SIM_NOW)
    unpinned = create_app(load_settings(home=built_home.home), load_dashboard_settings())
    assert unpinned.server.test_client().get("/readyz").json == on_time.json
    # just after END's close its own data is not due yet (8 h grace): Wednesday is, Thursday was Thanksgiving
    assert on_time.json["expected_day"] == "2026-11-25"
    later = load_settings(
        home=built_home.home, underlyings=built_home.underlyings, sim_now=dt.date(2026, 12, 2)
    )
    app = create_app(later, load_dashboard_settings())
    # late marts are still served (the pod stays in its Service) and /readyz says so; a monitor asks strictly
    late = app.server.test_client().get("/readyz")
    assert late.status_code == 200 and late.json["on_time"] is False and late.json["check"] == "marts_on_time"
    assert late.json["reason"].startswith(
        f"late: the marts' newest trading day is {END}, but 2026-12-01 was due"
    )
    strict = app.server.test_client().get("/readyz?strict=1")
    assert (
        strict.status_code == 503
        and strict.json["ready"] is False
        and strict.json["reason"] == late.json["reason"]
    )
    assert on_time.json["on_time"] is True
    assert app.server.test_client().get("/healthz").status_code == 200  # alive, only not ready

    page = _text(quality.layout(app.server.config["SMELT_QUERIES"], {}))
    assert "late: the marts' newest trading day is" in page
    assert "on time: the marts hold" in _text(
        quality.layout(create_app(built_home).server.config["SMELT_QUERIES"], {})
    )


def test_a_wide_fan_out_is_one_line_per_template(tmp_path: Path) -> None:
    """A whole-market day has thousands of pods: past 60 attempts a run's detail sums them per template
    (most time first) instead of a line each, so the page stays small."""
    settings = load_settings(home=tmp_path / "home")
    fan_out = [_attempt("underlying", f"underlying({i}:T{i})(0)", "Succeeded", "23:31:00", 10.0 + i % 7, 0)
               for i in range(70)]  # fmt: skip
    fan_out[3] = _attempt("underlying", "underlying(3:T3)(0)", "Failed", "23:31:00", 30.0, 3)
    steps = [*STEPS[:1], *fan_out, STEPS[1], STEPS[2]]
    _store(settings, "smelt-daily-wide", "Failed", dt.datetime(2026, 11, 27, 23, 30, tzinfo=UTC),
           [dt.date(2026, 11, 27)], steps=steps)  # fmt: skip
    q = Queries.over(SnapshotSource(snapshot_folder(settings.home)))
    (details,) = _find(runs.layout(q, {}), "Details")
    assert _text(details.children[0]) == "load (attempt 2 of 2) 2m 05s, failed"
    assert [_text(li) for li in details.children[1].children] == [
        "underlying: 70 attempts, slowest 30s, 15m 27s in all, 1 failed",  # 70 x 10 s, + 0..6 s, one 30 s
        "load: 2 attempts, slowest 2m 05s, 3m 06s in all, 2 failed",
        "ingest-stocks: 1 attempt, slowest 42s, 42s in all",
    ]


def test_a_report_from_before_step_attempts_still_reads() -> None:
    """Reports stored before decision 114 carry `steps: [{step, seconds}]`, finished phases only."""
    old = {"steps": [{"step": "ingest", "seconds": 12.0}, {"step": "transform", "seconds": 61.0}]}
    assert run_reports.step_text(run_reports.slowest_step(old) or {}) == "transform 1m 01s"
    assert run_reports.slowest_step({"steps": []}) is None and run_reports.slowest_step({}) is None


@pytest.mark.parametrize(
    ("statuses", "line"),
    [
        ([], ""),
        (["Succeeded"], "the newest run: succeeded"),
        (["Failed"], "the newest run: not succeeded"),
        (["Succeeded", "Succeeded"], "the 2 newest runs: all succeeded"),
        (["Failed", "Succeeded", "Error"], "the 3 newest runs: 2 not succeeded"),
    ],
)
def test_the_summary_line_reads_as_a_sentence_for_one_run_or_many(statuses: list[str], line: str) -> None:
    assert runs.outcome_summary(statuses) == line
