"""smelt installed as an image installs it: from the runtime lock, not editable, run from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.install.conftest import ROOT, clean_env, run

pytestmark = pytest.mark.slow

DAY = "2026-11-24"


def pins(lock: Path) -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s\\]+)", lock.read_text(), flags=re.MULTILINE))


@pytest.mark.parametrize("export", ["requirements-pipeline.lock", "requirements-dashboard.lock"])
def test_runtime_exports_pin_exactly_what_the_lock_pins(export: str) -> None:
    dev, runtime = pins(ROOT / "requirements.lock"), pins(ROOT / export)
    assert runtime, f"{export} pins nothing"
    assert {name: dev.get(name) for name in runtime} == runtime
    assert not {"pytest", "mypy", "ruff", "moto"} & runtime.keys()  # no dev tools in an image


def test_the_s3_server_image_lock_pins_exactly_what_the_lock_pins() -> None:
    """images/s3 (moto's server, the real node's lake) installs requirements-s3.lock: `make lock`'s pins."""
    dev, runtime = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-s3.lock")
    assert "moto" in runtime and "flask" in runtime
    assert {name: dev.get(name) for name in runtime} == runtime
    assert not {"pytest", "mypy", "ruff", "duckdb", "dbt-core"} & runtime.keys()


def test_a_non_editable_install_runs_every_step_from_outside_the_checkout(
    installed_pipeline: Path, tmp_path: Path
) -> None:
    env = clean_env(SMELT_HOME=str(tmp_path / "home"), SMELT_UNDERLYINGS="IWM")
    smelt = installed_pipeline / "smelt"
    for step in (["ingest", "stocks", "--date", DAY], ["ingest", "options", "--date", DAY],
                 ["load", "--date", DAY], ["transform"]):  # fmt: skip
        run(smelt, *step, cwd=tmp_path, env=env)
    project = run(installed_pipeline / "python", "-c", "from workflows.settings import load_settings; "
                  "print(load_settings().dbt_project_dir)", cwd=tmp_path, env=env).stdout.strip()  # fmt: skip
    assert "site-packages" in project and not project.startswith(str(ROOT))
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        (rows,) = con.execute("select count(*) from marts.mart_option_chain").fetchone() or (0,)
    assert rows > 0
