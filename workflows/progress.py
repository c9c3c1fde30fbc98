"""Progress bars for long ingests on a terminal; silent in containers, where log lines tell the story."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any


class UnitProgress:
    """One bar per step: units finished out of units planned, with rows so far."""

    def __init__(self, description: str, total: int) -> None:
        self._bar: Any = None
        self.description, self.total, self.rows = description, total, 0
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True,
            )  # fmt: skip

    def __enter__(self) -> UnitProgress:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total)
        return self

    def advance(self, rows: int) -> None:
        self.rows += rows
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=f"{self.description}: {self.rows:,} rows")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
