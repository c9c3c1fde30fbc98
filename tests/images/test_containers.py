"""Each image, built for real and run by containerd as a kubelet would run it (read-only root filesystem, the
image's user 10001, no capabilities, the runtime's default seccomp profile, host network): every step's
command starts, the simulator and the dashboard answer HTTP. Installing from the checkout hid that neither
image could start (issue 14); these run what the Dockerfile built."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.images.conftest import Containerd

pytestmark = [pytest.mark.images, pytest.mark.timeout(2700)]

#: Every command a WorkflowTemplate or the chart runs in the pipeline image, as ``--help``.
PIPELINE_COMMANDS = (
    (), ("ingest", "stocks"), ("ingest", "options"), ("ingest", "options-backfill"), ("load",), ("transform",),
    ("run",), ("summary",), ("calendar", "resolve"), ("calendar", "days"), ("argo", "report"),
    ("sim", "serve"), ("doctor",),
)  # fmt: skip


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, bytes]:
    """GET ``url`` until the server answers (it is starting in a container), then its status and body."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture
def servers(containerd: Containerd) -> Iterator[Containerd]:
    yield containerd
    containerd.stop_all()


@pytest.mark.parametrize("command", PIPELINE_COMMANDS, ids=lambda c: " ".join(c) or "smelt")
def test_every_step_command_starts_in_the_pipeline_image(
    containerd: Containerd, command: tuple[str, ...]
) -> None:
    done = containerd.run("pipeline", "smelt", *command, "--help")
    assert "Usage: smelt" in done.stdout, done.stdout + done.stderr


def test_the_pipeline_image_runs_as_10001_on_a_read_only_root(containerd: Containerd) -> None:
    probe = (
        "import json, os\n"
        "def writable(path):\n"
        "    try:\n"
        "        open(path, 'w').close()\n"
        "        return True\n"
        "    except OSError:\n"
        "        return False\n"
        "caps = [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')][0]\n"
        "print(json.dumps({'uid': os.getuid(), 'gid': os.getgid(), 'opt': writable('/opt/smelt/x'),\n"
        "                  'etc': writable('/etc/x'), 'tmp': writable('/tmp/x'), 'caps': int(caps, 16)}))\n"
    )
    done = containerd.run("pipeline", "python", "-c", probe)
    assert json.loads(done.stdout) == {
        "uid": 10001, "gid": 10001, "opt": False, "etc": False, "tmp": True, "caps": 0
    }  # fmt: skip


def test_the_pipeline_image_has_no_dashboard_and_says_which_extra(containerd: Containerd) -> None:
    done = containerd.run("pipeline", "smelt", "dashboard", check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "install the 'dashboard' extra" in done.stderr and "Traceback" not in done.stderr


def test_the_simulator_serves_from_the_pipeline_image(servers: Containerd) -> None:
    port = _port()
    servers.run("pipeline", "smelt", "sim", "serve", "--host", "127.0.0.1", "--port", str(port), detach=True,
                env={"SMELT_SIM_NOW": "2026-11-24"})  # fmt: skip
    status, body = _get(f"http://127.0.0.1:{port}/v2/aggs/grouped/locale/us/market/stocks/2026-11-24",
                        headers={"Authorization": "Bearer any"})  # fmt: skip
    assert status == 200, body[:500]
    answer = json.loads(body)
    assert answer["status"] == "OK" and answer["resultsCount"] > 100


def test_the_dashboard_image_serves_healthz_without_a_warehouse(servers: Containerd) -> None:
    port = _port()
    servers.run("dashboard", detach=True,
                env={"SMELT_DASHBOARD_HOST": "127.0.0.1", "SMELT_DASHBOARD_PORT": str(port)})  # fmt: skip
    status, body = _get(f"http://127.0.0.1:{port}/healthz", timeout=90)
    assert (status, body.strip()) == (200, b"ok")
    status, _ = _get(f"http://127.0.0.1:{port}/market")
    assert status == 200
