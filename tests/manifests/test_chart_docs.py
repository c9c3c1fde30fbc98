"""Each chart's README.md is the one scripts/charts/readme.py writes from its Chart.yaml and values.yaml."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from tests.tooling import ROOT


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chart_readme", ROOT / "scripts" / "charts" / "readme.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


readme = _generator()


@pytest.mark.parametrize("chart", readme.CHARTS, ids=lambda p: p.name)
def test_readme_is_generated_from_the_values(chart: Path) -> None:
    assert (chart / "README.md").read_text() == readme.render(chart), "run: python scripts/charts/readme.py"


@pytest.mark.parametrize("chart", readme.CHARTS, ids=lambda p: p.name)
def test_every_documented_value_is_in_the_readme(chart: Path) -> None:
    keys = [key for key, _ in readme.documented_keys((chart / "values.yaml").read_text())]
    assert len(keys) > 20 and len(set(keys)) == len(keys)
    text = (chart / "README.md").read_text()
    assert all(f"\n| {key} |" in text for key in keys)


def test_a_changed_comment_makes_the_readme_stale(tmp_path: Path) -> None:
    """The check can fail: edit a value's comment in a copy of the chart, and its README no longer matches."""
    copy = tmp_path / "pipeline"
    shutil.copytree(ROOT / "charts" / "pipeline", copy)
    values = copy / "values.yaml"
    values.write_text(
        values.read_text().replace("# -- Pull policy of every step container.", "# -- Changed.", 1)
    )
    assert (copy / "README.md").read_text() != readme.render(copy)
    assert '| image.pullPolicy | string | `"IfNotPresent"` | Changed. |' in readme.render(copy)
