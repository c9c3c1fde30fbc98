"""What the dashboard tests share: the small history they build, and the hostile strings they send."""

from __future__ import annotations

import datetime as dt
from typing import Any

#: Five weeks with the Thanksgiving holiday (2026-11-26) inside: enough for 20-day windows.
START, END = dt.date(2026, 10, 23), dt.date(2026, 11, 27)
#: The simulator's clock for the build: just after END's close, so END comes through the chain snapshot (open
#: interest, vendor Greeks) and the days before it through the backfill path, whatever today's date is.
SIM_NOW = END
HOLIDAY = dt.date(2026, 11, 26)
UNDERLYINGS = ("AAPL", "SPY")
#: The demo-shaped build (`replayed_home`): the last sessions to END, each through the chain snapshot.
REPLAYED = (dt.date(2026, 11, 19), dt.date(2026, 11, 20), dt.date(2026, 11, 23), dt.date(2026, 11, 24),
            dt.date(2026, 11, 25), END)  # fmt: skip
REPLAYED_UNDERLYINGS = ("AAPL",)

#: Strings that would change a query if they were ever pasted into SQL text.
INJECTIONS = (
    "AAPL'; DROP TABLE mart_option_chain; --",
    "SPY' OR '1'='1",
    "2026-11-27' UNION SELECT * FROM read_csv('/etc/passwd') --",
    "1); ATTACH '/tmp/evil.db' AS evil; --",
    '" OR ""="',
    "mart_stock_daily; SELECT 1",
)
#: Values of the wrong kind for any control.
WRONG_KINDS: tuple[Any, ...] = (None, 42, 3.5, ["AAPL"], {"value": "AAPL"}, "", "x" * 5000, "NaN")


def is_refused(outputs: tuple[Any, ...], index: int = 1) -> bool:
    """Whether a callback answered with a refusal message (``notice notice-refused``) at ``index``."""
    note = outputs[index]
    return getattr(note, "className", "") == "notice notice-refused"


def note_text(outputs: tuple[Any, ...], index: int = 1) -> str:
    note = outputs[index]
    children = getattr(note, "children", note)
    if isinstance(children, list):
        return "".join(getattr(c, "children", c) if not isinstance(c, str) else c for c in children)
    return str(children)
