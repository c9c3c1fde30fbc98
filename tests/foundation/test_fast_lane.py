"""`make check` runs the tests whose marks need nothing beyond Python, and a test cannot hide what it needs.

The marks (pyproject.toml) say what a test needs: ``tools`` (a Go tool from `make tools`), ``cluster`` (the
control plane), ``browser`` (Chromium), ``images`` (buildah and containerd), ``slow``. The fast lane's marker
expression in the Makefile leaves out each of them, and tests/tooling.py fails a test that reaches for one
of those without its mark: this test is unmarked, so each reach below must fail it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from _pytest.mark.expression import Expression

from tests import tooling
from tests.tooling import ROOT

NEEDS_MORE_THAN_PYTHON = ("tools", "cluster", "browser", "images", "slow")


def fast_lane() -> Expression:
    """The marker expression `make check` runs pytest with."""
    makefile = (ROOT / "Makefile").read_text()
    assert '\ncheck: lint\n\t$(BIN)/python -m pytest -m "$(FAST_LANE)"\n' in makefile
    (expression,) = re.findall(r"^FAST_LANE := (.+)$", makefile, re.MULTILINE)
    return Expression.compile(expression)


@pytest.mark.parametrize("mark", NEEDS_MORE_THAN_PYTHON)
def test_make_check_leaves_out_every_test_marked_with_a_need(mark: str) -> None:
    lane = fast_lane()
    assert lane.evaluate(lambda name, **_: False), "an unmarked test runs in the fast lane"
    assert not lane.evaluate(lambda name, **_: name == mark)


def test_a_go_tool_fails_an_unmarked_test() -> None:
    with pytest.raises(
        pytest.fail.Exception, match=r"uses helm but is not marked tools: add pytest.mark.tools"
    ):
        tooling.tool("helm")
    tooling.tool("shellcheck")  # the dev extra's tools are Python packages: any test may run them


def test_a_cluster_fails_an_unmarked_test(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="is not marked cluster"):  # noqa: SIM117
        with tooling.leased_cluster(tmp_path, lambda: True, {}, down_timeout=1):
            pass
    assert not (tmp_path / "leases").exists()  # refused before taking a lease


def test_chromium_fails_an_unmarked_test() -> None:
    with pytest.raises(pytest.fail.Exception, match="uses Chromium but is not marked browser"):
        tooling.require_chromium()


def test_a_fixture_that_builds_a_warehouse_makes_every_test_using_it_slow(tmp_path: Path) -> None:
    """With the suite's own collection hook, in a session of its own: the fast lane leaves out both users."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow: as in pyproject.toml\n")
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_itemcollected  # noqa: F401\n")
    (tmp_path / "test_probe.py").write_text(
        "import pytest\nfrom tests.marks import builds_a_warehouse\n\n"
        "@pytest.fixture\n@builds_a_warehouse\ndef warehouse():\n    return 1\n\n"
        "@pytest.fixture\ndef marts(warehouse):\n    return warehouse\n\n"
        "def test_direct(warehouse): pass\ndef test_indirect(marts): pass\ndef test_plain(): pass\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", "not slow",
         "-c", str(tmp_path / "pytest.ini"), str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert "test_probe.py::test_plain" in done.stdout, done.stdout + done.stderr
    assert (
        "2 deselected" in done.stdout
        and "test_direct" not in done.stdout
        and "test_indirect" not in done.stdout
    )


@pytest.mark.tools
def test_a_marked_test_gets_past_the_check() -> None:
    """Left out of `make check` by its mark; in `make test` it reaches the tool (or says how to build it)."""
    assert Path(tooling.tool("helm")).name == "helm"
