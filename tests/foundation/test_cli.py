"""The command line's contract: one line per error, saying what to do, with the exit code the help promises."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from workflows import calendar, cli
from workflows.settings import load_settings


def smelt(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setattr("sys.argv", ["smelt", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    out = capsys.readouterr()
    return int(exited.value.code or 0), out.err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["run", "--start", "2026-11-25", "--end", "2026-11-01"],
            "2026-11-25 is after --end 2026-11-01; swap them",
        ),
        (
            ["run", "--start", str(dt.date.today() + dt.timedelta(days=7))],
            "has not closed yet; the latest completed",
        ),
        (
            ["run", "--start", "1999-01-04", "--end", "1999-02-01"],
            "1999-01-04 is outside the NYSE calendar smelt knows",
        ),
        (
            ["ingest", "stocks", "--date", "2026-11-26"],
            "not an NYSE trading day (Thanksgiving); the session before it is 2026-11-25",
        ),
        (["ingest", "stocks", "--date", "2026-11-22"], "2026-11-22 is not an NYSE trading day (a weekend)"),
        (["ingest", "stocks", "--date", "2026-13-01"], "'2026-13-01' does not match the formats '%Y-%m-%d'"),
        (
            ["ingest", "options", "--date", "2026-11-25", "--mode", "x"],
            "'x' is not one of 'auto', 'snapshot', 'backfill'",
        ),
        (
            ["ingest", "options", "--date", "2026-11-25", "--underlyings", "A;B"],
            "--underlyings: 'A;B' is not valid",
        ),
        (["load", "--date", "2026-11-25", "--dataset", "nope"], "'nope' is not one of 'stock_bars'"),
        (["ingest", "stocks"], "Missing option '--date'"),
    ],
)
def test_bad_arguments_are_one_line_naming_the_option_with_exit_code_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], expected: str
) -> None:
    code, err = smelt(capsys, monkeypatch, *args)
    assert code == 2
    assert expected in err
    assert err.count("\n") == 1 and err.startswith("smelt ") and "--help" in err
    assert "Traceback" not in err


def test_bad_settings_are_one_line_with_exit_code_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMELT_SIM_URL", "ftp://nowhere")
    code, err = smelt(capsys, monkeypatch, "ingest", "stocks", "--date", "2026-11-24")
    assert code == 2
    assert "SMELT_SIM_URL='ftp://nowhere' is not valid" in err and err.count("\n") == 1


def test_the_help_promises_the_exit_codes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.argv", ["smelt", "--help"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    text = " ".join(capsys.readouterr().out.split())
    assert exited.value.code == 0
    assert "1 the step failed and running it again may succeed" in text
    assert "2 bad arguments or settings" in text and "3 the step failed and will fail again" in text


def test_the_calendar_horizon_is_the_libraries_last_session() -> None:
    assert calendar.last_known_day() >= calendar.last_completed_trading_day()
    with pytest.raises(calendar.CalendarRangeError, match="published about a year ahead"):
        calendar.is_trading_day(calendar.last_known_day().replace(year=calendar.last_known_day().year + 2))


def test_the_pipeline_cli_never_imports_the_dashboard() -> None:
    """The pipeline image ships without the dashboard package: importing the CLI must not need it."""
    import subprocess
    import sys

    probe = (
        "import sys, workflows.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'dashboard'))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_smelt_dashboard_without_the_extra_names_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "dashboard", None)  # as if the package were not installed
    code, err = smelt(capsys, monkeypatch, "dashboard", "--port", "8051")
    assert code == 2
    assert "install the 'dashboard' extra" in err and "Traceback" not in err


def test_a_missing_dbt_project_stops_the_transform_before_any_work(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Only the commands that run dbt ask for its project (the dashboard image has none)."""
    monkeypatch.setenv("SMELT_DBT_PROJECT_DIR", str(tmp_path / "nowhere"))
    code, err = smelt(capsys, monkeypatch, "transform")
    assert code == 2
    assert "SMELT_DBT_PROJECT_DIR=" in err and "has no dbt_project.yml" in err
    assert not (tmp_path / "smelt-home" / "warehouse.duckdb").exists()
    assert load_settings().dbt_project_dir == tmp_path / "nowhere"  # other commands load these settings fine
