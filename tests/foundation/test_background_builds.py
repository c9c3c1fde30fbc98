"""``make test`` builds the tools and images beside the suites (scripts/test.sh): the tests that need a build
run last and wait for it, and a failed build fails them with its log."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests import conftest, tooling


def test_a_test_that_needs_a_build_waits_for_it_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tooling, "BACKGROUND_BUILDS", tmp_path)
    (tmp_path / "tools.log").write_text("building helm\n")
    threading.Timer(1.0, (tmp_path / "tools.rc").write_text, args=("0\n",)).start()
    started = time.monotonic()
    tooling.await_build("tools")
    assert time.monotonic() - started >= 0.9  # it waited for the build, it did not find the tools half-built


def test_a_failed_build_fails_the_test_with_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tooling, "BACKGROUND_BUILDS", tmp_path)
    (tmp_path / "images.log").write_text("mmdebstrap: E: cannot reach deb.debian.org\n")
    (tmp_path / "images.rc").write_text("1\n")
    with pytest.raises(
        pytest.fail.Exception, match=r"building the images failed \(exit 1\)(.|\n)*deb.debian.org"
    ):
        tooling.await_build("images")


def test_without_background_builds_nothing_waits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # timeout=0: a call that waited at all would fail the test ("did not end within 0 s")
    monkeypatch.setattr(tooling, "BACKGROUND_BUILDS", None)
    tooling.await_build("tools", timeout=0)  # returns at once: the caller finds what is installed
    monkeypatch.setattr(tooling, "BACKGROUND_BUILDS", tmp_path)  # a build make test did not start
    tooling.await_build("images", timeout=0)


def _item(name: str, *markers: str) -> Any:
    return SimpleNamespace(name=name, get_closest_marker=lambda m: m if m in markers else None)


def test_the_tests_that_need_a_build_run_last_in_their_own_order() -> None:
    items = [_item("lint", "tools"), _item("dbt"), _item("node", "cluster"), _item("browser", "browser"),
             _item("image", "images"), _item("pipeline", "slow")]  # fmt: skip
    conftest.pytest_collection_modifyitems(None, items)  # type: ignore[arg-type]
    assert [i.name for i in items] == ["dbt", "browser", "pipeline", "lint", "node", "image"]
