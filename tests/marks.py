"""What a test needs, as marks (pyproject.toml), so `make check` can leave out what needs more than Python.

``tools`` (a Go tool from `make tools`), ``cluster`` (the control plane), ``browser`` (Chromium), ``images``
(buildah and containerd) and ``slow`` (a warehouse built through the whole pipeline, dbt included). A test
marks itself, or gets the mark from what it uses: :func:`needs` fails a test that reaches for a tool, the
control plane, Chromium or containerd without its mark, and a fixture decorated :func:`builds_a_warehouse`
marks every test that uses it slow. tests/conftest.py applies both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., object])

#: The test being run (tests/conftest.py keeps it), for :func:`needs`.
RUNNING: list[pytest.Item] = []
#: Fixtures that build a warehouse through the pipeline: a test that uses one, even indirectly, is slow.
WAREHOUSE_BUILDS: set[str] = set()


def needs(mark: str, what: str) -> None:
    """Fail the running test unless it is marked ``mark``: the fast lane (`make check`) selects by the marks."""
    if RUNNING and RUNNING[0].get_closest_marker(mark) is None:
        pytest.fail(
            f"{RUNNING[0].nodeid} uses {what} but is not marked {mark}: add pytest.mark.{mark}, "
            "which keeps it out of `make check`",
            pytrace=False,
        )


def builds_a_warehouse(fixture: F) -> F:
    """Declare a fixture (put this under ``@pytest.fixture``) slow for every test that uses it."""
    WAREHOUSE_BUILDS.add(fixture.__name__)
    return fixture


def implied(item: pytest.Item) -> list[pytest.MarkDecorator]:
    """The marks a collected test gets from what it uses: the control plane needs the tools too."""
    marks = []
    if item.get_closest_marker("cluster"):
        marks.append(pytest.mark.tools)
    if WAREHOUSE_BUILDS & set(getattr(item, "fixturenames", ())):
        marks.append(pytest.mark.slow)
    return marks
