"""`make screenshots`: a PNG of each dashboard page, taken in Debian's Chromium from `smelt dashboard` over
$SMELT_HOME (./.smelt by default). Without a published snapshot there it runs `smelt run` first (the
`make run` data: the last 30 trading days of the default universe).

    .venv/bin/python -m bench.dashboard_screenshots --out docs/screenshots [--home .smelt]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bench.dashboard_support import ROOT, chromium, serve, wait_for_charts
from dashboard.pages import PAGES
from workflows.marts_contract import current_version
from workflows.publish import snapshot_root as root_of
from workflows.settings import load_settings

#: The view each screenshot shows (query strings as a user would share them).
VIEWS = {
    "market": "?ticker=AAPL&range=3m&overlays=sma20,bollinger,move",
    "chain": "?ticker=SPY&money=10",
    "volatility": "?ticker=AAPL",
    "positioning": "?ticker=SPY",
    "strategy": "?ticker=AAPL",
    "quality": "",
    "runs": "",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("SMELT_HOME", ".smelt")))
    args = parser.parse_args()
    home = args.home.resolve()
    if current_version(root_of(load_settings(home=home))) is None:
        print(f"no marts snapshot in {home}: running `smelt run` first")
        smelt = str(Path(sys.executable).with_name("smelt"))
        subprocess.run([smelt, "run"], env={**os.environ, "SMELT_HOME": str(home)}, check=True)
    args.out.mkdir(parents=True, exist_ok=True)
    with serve(home) as base, chromium() as browser:
        for theme in ("light", "dark"):
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
            page = context.new_page()
            page.goto(base + "/market")
            page.evaluate(f"localStorage.setItem('theme', JSON.stringify('{theme}'))")
            for module in PAGES if theme == "light" else PAGES[:1]:
                name = module.PATH.strip("/")
                page.goto(base + module.PATH + VIEWS[name])
                wait_for_charts(page)
                if name == "strategy":
                    page.get_by_role("button", name="Add preset").click()
                    page.wait_for_selector("#strat-kpis .kpi-value")
                    wait_for_charts(page)
                page.wait_for_timeout(500)  # let plotly finish its transitions
                path = args.out / (f"{name}.png" if theme == "light" else f"{name}-{theme}.png")
                page.screenshot(path=str(path), full_page=True)
                print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
            context.close()


if __name__ == "__main__":
    main()
