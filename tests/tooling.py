"""The external tools the tests drive, and the local control plane, for every test that needs them.

Tools are built by ``make tools`` (scripts/tools/install.sh) into ``$SMELT_TOOLS_DIR/bin`` (default
``~/.cache/smelt/tools/bin``), outside the work tree; hadolint and shellcheck come from the dev extra in the
venv. A missing tool fails the test with the command that installs it: a check that cannot run is a
failure, never a skip. The paths are read at import, before the test fixtures clear ``SMELT_*`` variables.

A Go tool, the control plane and Chromium are only for tests marked so (tests/marks.py): `make check` leaves
those out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.marks import needs

ROOT = Path(__file__).resolve().parents[1]
TOOLS_DIR = Path(os.environ.get("SMELT_TOOLS_DIR") or Path.home() / ".cache" / "smelt" / "tools")
CLUSTER_DIR = Path(os.environ.get("SMELT_CLUSTER_DIR") or Path.home() / ".cache" / "smelt" / "cluster")
SCHEMAS = ROOT / "tests" / "schemas"
#: The pinned tool versions (scripts/tools/versions.env), e.g. VERSIONS["KUBE_VERSION"] == "v1.33.13".
VERSIONS = dict(
    re.findall(r"^([A-Z0-9_]+)=(\S+)", (ROOT / "scripts/tools/versions.env").read_text(), re.MULTILINE)
)

#: Where ``make test`` (scripts/test.sh) records the builds it runs beside the suites: <name>.log, <name>.rc.
BACKGROUND_BUILDS = (
    Path(os.environ["SMELT_BACKGROUND_BUILDS"]) if os.environ.get("SMELT_BACKGROUND_BUILDS") else None
)

_VENV_TOOLS = {"hadolint": "the dev extra (make install)", "shellcheck": "the dev extra (make install)"}
_CLUSTER_TOOLS = ("etcd", "kube-apiserver", "kube-scheduler", "kubectl", "kwok", "workflow-controller")


def tool(name: str) -> str:
    """Absolute path of a tool, or a test failure that says how to install it."""
    if name in _VENV_TOOLS:
        found = shutil.which(name, path=str(Path(sys.executable).parent))
        if found:
            return found
        pytest.fail(
            f"{name} is not installed in {Path(sys.executable).parent}: it comes from {_VENV_TOOLS[name]}"
        )
    needs("tools", name)
    await_build("tools")
    path = TOOLS_DIR / "bin" / name
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"{name} is not installed at {path}: run `make tools` (builds it once, cached outside the work tree)"
        )
    return str(path)


def await_build(name: str, timeout: float = 3600) -> None:
    """Wait for ``make test``'s background build ``name`` (tools, images) to end; fail with its log if it failed.

    Outside ``make test`` (no background builds) this returns at once and the caller finds what is installed.
    """
    if BACKGROUND_BUILDS is None or not (BACKGROUND_BUILDS / f"{name}.log").exists():
        return
    status, deadline = BACKGROUND_BUILDS / f"{name}.rc", time.monotonic() + timeout
    while not status.exists():
        if time.monotonic() > deadline:
            pytest.fail(
                f"the {name} build ({BACKGROUND_BUILDS / name}.log) did not end within {timeout:.0f} s"
            )
        time.sleep(2)
    code = status.read_text().strip()
    if code != "0":
        log = (BACKGROUND_BUILDS / f"{name}.log").read_text(errors="replace")[-4000:]
        pytest.fail(f"building the {name} failed (exit {code}); the end of its log:\n{log}")


def require_chromium() -> str:
    """Debian's Chromium (bench/dashboard_support.py), for a test marked browser."""
    from bench import dashboard_support

    needs("browser", "Chromium")
    return dashboard_support.require_chromium()


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (bench/dashboard_support.py), for a test marked browser."""
    from bench import dashboard_support

    needs("browser", "Chromium")
    with dashboard_support.chromium() as browser:
        yield browser


def stop(process: subprocess.Popen[Any], grace: float = 10) -> None:
    """End a server the tests started: TERM, then KILL if it outlives ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(
    args: Sequence[str | Path],
    *,
    input: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    check: bool = True,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a tool; on failure the test fails with its command line and output, not a bare exit status."""
    argv = [str(a) for a in args]
    done = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, check=False, cwd=cwd)  # fmt: skip
    if check and done.returncode != 0:
        pytest.fail(
            f"`{' '.join(argv)}` exited {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )
    return done


def kubeconform(manifests: str, *, extra_schemas: Sequence[Path] = ()) -> subprocess.CompletedProcess[str]:
    """Validate YAML (from stdin) strictly against the schemas kept under tests/schemas, offline."""
    locations = [SCHEMAS / "kubernetes" / "{{.NormalizedKubernetesVersion}}-standalone-strict/{{.ResourceKind}}{{.KindSuffix}}.json",
                 SCHEMAS / "crds" / "{{.Group}}" / "{{.ResourceKind}}_{{.ResourceAPIVersion}}.json", *extra_schemas]  # fmt: skip
    args: list[str | Path] = [tool("kubeconform"), "-strict", "-summary", "-output", "text",
                              "-kubernetes-version", VERSIONS["KUBE_VERSION"].removeprefix("v")]  # fmt: skip
    for location in locations:
        args += ["-schema-location", str(location)]
    return run([*args, "-"], input=manifests)


def control_plane_running() -> bool:
    pids = list((CLUSTER_DIR / "pids").glob("*.pid"))
    return bool(pids) and all(_alive(p) for p in pids)


def _alive(pid_file: Path, pid: int | None = None) -> bool:
    try:
        os.kill(pid if pid is not None else int(pid_file.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


@pytest.fixture(scope="session")
def kubeconfig() -> Iterator[Path]:
    """A kubeconfig for the local control plane (real kube-apiserver, Argo controller, kwok node).

    Reuses a running control plane; otherwise starts one. Several test sessions (worktrees) may share it:
    each holds a lease while it runs, and the last one to leave stops a plane that a test session started.
    One that `make cluster-up` started is left running.
    """
    for name in _CLUSTER_TOOLS:
        tool(name)
    # the kwok control plane, whatever SMELT_NODE the caller's shell has (real: tests/cluster/realnode.py)
    env = {"SMELT_TOOLS_DIR": str(TOOLS_DIR), "SMELT_CLUSTER_DIR": str(CLUSTER_DIR), "SMELT_NODE": "kwok"}
    with leased_cluster(CLUSTER_DIR, control_plane_running, env, down_timeout=120):
        yield CLUSTER_DIR / "kubeconfig"


@contextmanager
def leased_cluster(
    state: Path, running: Callable[[], bool], env: dict[str, str], down_timeout: float
) -> Iterator[None]:
    """A cluster (scripts/cluster/up.sh with ``env``) shared by test sessions: started unless ``running()``,
    each session holds a lease (a file named by its pid in ``state``/leases), and the last one to leave stops
    a cluster that a test session started; one that `make cluster-up` started is left running."""
    needs("cluster", "a cluster")
    if not running():
        run([ROOT / "scripts" / "cluster" / "up.sh"], env=env, timeout=600)
        (state / "started-by-tests").touch()
    leases = state / "leases"
    leases.mkdir(exist_ok=True)
    lease = leases / str(os.getpid())
    lease.touch()
    try:
        yield
    finally:
        lease.unlink(missing_ok=True)
        others = [p for p in leases.glob("*") if _alive(p, pid=int(p.name))]
        if not others and (state / "started-by-tests").exists():
            run([ROOT / "scripts" / "cluster" / "down.sh"], env=env, timeout=down_timeout, check=False)
