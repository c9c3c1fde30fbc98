"""The test session's clock, and ``smelt`` in a child process on that same clock.

Every test runs at one fixed instant (``tests/conftest.py`` starts it before collection). A child process
starts on the real clock; one that continues what the session built (a warehouse whose loads and dbt batches
carry the session's times) must not, or its new batch would look older than the last one:
``python -m tests.clock EPOCH ARGS`` runs ``smelt ARGS`` travelled to ``EPOCH`` (the parent's "now").
"""

from __future__ import annotations

import datetime as dt
import importlib
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

#: Far from every fixture's dates (they sit in 2024-2026): a Tuesday in regular trading hours.
TEST_CLOCK = dt.datetime(2027, 6, 15, 14, 30, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[1]


def smelt_on_session_clock(*args: str) -> list[str]:
    """The argv of ``smelt ARGS`` in a child on the session's clock as it reads now (run it with cwd=ROOT)."""
    return [sys.executable, "-m", "tests.clock", repr(time.time()), *args]


def loader_on_session_clock(settings: Any) -> ProcessPoolExecutor:
    """``smelt run``'s loader process (workflows/steps/run.py ``_loader``) on the session's clock: its ledger
    rows and landing rows are stamped at the session's "now", as the ingest's are (the conftest installs it)."""
    run = importlib.import_module("workflows.steps.run")  # the module: workflows.steps.run is also a function
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=1,
        mp_context=context,
        initializer=_start_on_clock,
        initargs=(time.time(), run._start_loader, settings),
    )


def _start_on_clock(epoch: float, start: Any, settings: Any) -> None:
    import time_machine

    time_machine.travel(epoch, tick=True).start()
    start(settings)


if __name__ == "__main__":
    import time_machine

    from workflows.cli import main

    with time_machine.travel(float(sys.argv[1]), tick=True):
        sys.argv = ["smelt", *sys.argv[2:]]
        main()
