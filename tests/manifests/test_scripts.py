"""shellcheck on every shell script the project ships (scripts/, images/, CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tooling import ROOT, run, tool

SCRIPTS = sorted([*ROOT.glob("scripts/**/*.sh"), *ROOT.glob("images/**/*.sh"), ROOT / ".ci" / "run"])


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shellcheck_is_clean(script: Path) -> None:
    run([tool("shellcheck"), "--external-sources", "--severity", "style", script], cwd=ROOT)


def test_shellcheck_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/sh\nrm -rf $1/*\n")
    done = run([tool("shellcheck"), bad], check=False)
    assert done.returncode != 0 and "SC2086" in done.stdout
