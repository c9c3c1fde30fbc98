"""What an image installs that its commands never import: run inside the pipeline image (``python -c``).

It runs one small day through every step in-process (simulator -> lake -> DuckDB -> dbt -> publish), imports
the modules of the commands that cannot run here (Snowflake loader, Argo report, the served simulator), then
lists each installed distribution with its size and whether any of its top-level modules was imported.

    ctr ... run IMAGE id python -c "$(cat bench/image_imports.py)"     (docs/benchmarks.md has the result)
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata as metadata
import json
import os
import sys
from pathlib import Path

os.environ["SMELT_HOME"] = "/tmp/smelt-home"  # the image sets /var/lib/smelt, a volume in a pod
from workflows import steps
from workflows.settings import load_settings

settings = load_settings(underlyings=("SPY",), sim_now=dt.date(2026, 11, 24), sim_market_size=200,
                         log_level="warning")  # fmt: skip
steps.run(
    steps.Resources.from_settings(settings),
    start=dt.date(2026, 11, 24),
    end=dt.date(2026, 11, 24),
    underlyings=("SPY",),
)
import workflows.cli  # noqa: E402
import workflows.simulator.server  # noqa: E402
import workflows.warehouse.snowflake  # noqa: E402, F401

imported = {name.split(".")[0] for name in sys.modules}
rows = []
for dist in metadata.distributions():
    files = dist.files or []
    tops = {Path(str(f)).parts[0].removesuffix(".py") for f in files if not str(f).startswith("..")}
    tops = {t for t in tops if not t.endswith((".dist-info", ".data", ".pth")) and t != "__pycache__"}
    size = sum((dist.locate_file(f).stat().st_size for f in files if dist.locate_file(f).is_file()), 0)
    rows.append({"name": dist.metadata["Name"], "mib": round(size / 2**20, 1), "used": bool(tops & imported)})
rows.sort(key=lambda r: -r["mib"])
print(
    json.dumps(
        {
            "total_mib": round(sum(r["mib"] for r in rows), 1),
            "unused_mib": round(sum(r["mib"] for r in rows if not r["used"]), 1),
            "unused": [r for r in rows if not r["used"]],
            "largest_used": [r for r in rows if r["used"]][:8],
        }
    )
)
