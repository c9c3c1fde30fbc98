"""Logs: JSON lines off a terminal, bound context on every line, secrets never printed."""

from __future__ import annotations

import io
import logging

import orjson

from workflows import logs


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_carry_the_step_context() -> None:
    out = io.StringIO()
    logs.configure("json", stream=out)
    with logs.bound(run_id="R1", step="ingest-options", trade_date="2026-11-24", dataset="option_snapshots"):
        logs.get_logger("t").info("unit finished", underlying="SPY", rows=10)
    logs.get_logger("t").info("after")
    first, second = _lines(out)
    assert first["event"] == "unit finished" and first["level"] == "info"
    assert {k: first[k] for k in ("run_id", "step", "trade_date", "dataset", "underlying", "rows")} == {
        "run_id": "R1", "step": "ingest-options", "trade_date": "2026-11-24",
        "dataset": "option_snapshots", "underlying": "SPY", "rows": 10,
    }  # fmt: skip
    assert "run_id" not in second


def test_secrets_are_redacted_everywhere() -> None:
    key = "pk_test_ZZZ_never_print_me"
    out = io.StringIO()
    logs.configure("json", secrets=[key], stream=out)
    log = logs.get_logger("t")
    log.info(f"url with {key}", header={"Authorization": f"Bearer {key}"}, items=[key])
    logging.getLogger("some.library").warning("stdlib line %s", key)
    try:
        raise RuntimeError(f"failed with {key}")
    except RuntimeError:
        log.exception("boom")
    text = out.getvalue()
    assert key not in text
    assert text.count(logs.REDACTED) >= 5
    assert logs.redact(f"x{key}y") == f"x{logs.REDACTED}y"


def test_console_format_is_readable() -> None:
    out = io.StringIO()
    logs.configure("console", stream=out)
    logs.get_logger("t").info("hello", rows=3)
    assert "hello" in out.getvalue() and "rows=3" in out.getvalue()
    assert not out.getvalue().lstrip().startswith("{")
