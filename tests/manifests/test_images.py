"""The Dockerfiles, without a Docker engine: hadolint on each, and the pipeline image's install steps run
for real into a fresh virtual environment from the runtime lock alone, then its entrypoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dockerfile_replay import replay
from tests.tooling import ROOT, run, tool

DOCKERFILES = sorted((ROOT / "images").glob("*/Dockerfile"))


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_is_clean(dockerfile: Path) -> None:
    run([tool("hadolint"), "--failure-threshold", "info", dockerfile])


def test_hadolint_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\n")
    done = run([tool("hadolint"), "--failure-threshold", "info", bad], check=False)
    assert done.returncode != 0
    assert "DL3007" in done.stdout  # a floating :latest tag


def test_pipeline_image_runs_as_a_numeric_user_with_the_runtime_lock() -> None:
    text = (ROOT / "images" / "pipeline" / "Dockerfile").read_text()
    assert "USER 10001:10001" in text
    assert "images/install.sh deps /opt/smelt requirements-pipeline.lock" in text
    assert "ARG PYTHON_IMAGE=python:3.11." in text and "-slim-" in text


@pytest.mark.slow
def test_pipeline_install_steps_give_a_working_entrypoint(tmp_path: Path) -> None:
    venv = tmp_path / "opt-smelt"
    # The Dockerfile's build stage, replayed on exactly what it copies (no dashboard/, no tests/).
    replay(ROOT / "images" / "pipeline" / "Dockerfile", tmp_path / "src", venv)
    installed = run([venv / "bin" / "python", "-m", "pip", "--version"], check=False)
    assert installed.returncode != 0, "the image's environment has no pip: runtime packages only"
    dev_tools = [
        name for name in ("pytest", "mypy", "ruff", "hera", "moto") if (venv / "bin" / name).exists()
    ]
    assert not dev_tools
    # The dbt project ships inside the wheel (SMELT_DBT_PROJECT_DIR's default), not beside a checkout.
    assert list(venv.glob("lib/python3.*/site-packages/workflows/dbt_project/dbt_project.yml"))
    for args in (["--help"], ["ingest", "stocks", "--help"], ["load", "--help"], ["transform", "--help"],
                 ["calendar", "resolve", "--help"], ["argo", "report", "--help"], ["sim", "serve", "--help"]):  # fmt: skip
        done = run([venv / "bin" / "smelt", *args], env={"SMELT_HOME": str(tmp_path / "home")})
        assert "Usage: smelt" in done.stdout, args
