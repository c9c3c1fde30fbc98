"""A non-editable install of smelt from the runtime lock, the way an image installs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")


def run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], check=True, capture_output=True, text=True, timeout=600, **kwargs
    )  # type: ignore[call-overload, no-any-return]


@pytest.fixture(scope="session")
def installed_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding only ``requirements-pipeline.lock`` and smelt's wheel; yields its bin folder."""
    work = tmp_path_factory.mktemp("installed")
    run(UV, "build", "--wheel", "--quiet", "--out-dir", work / "dist", ROOT, cwd=work)
    (wheel,) = (work / "dist").glob("smelt-*.whl")
    venv = work / "venv"
    run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    python = venv / "bin" / "python"
    run(UV, "pip", "sync", "--quiet", "--compile-bytecode", "--require-hashes", "--python", python,
        ROOT / "requirements-pipeline.lock")  # fmt: skip
    run(UV, "pip", "install", "--quiet", "--compile-bytecode", "--no-deps", "--python", python, wheel)
    yield venv / "bin"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a container: no developer settings, no path back into the checkout."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SMELT_", "POLYGON_", "SNOWFLAKE_", "PYTHON"))
    }
    return {**keep, "DO_NOT_TRACK": "1", "SMELT_LOG_FORMAT": "json", **extra}
