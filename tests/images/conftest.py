"""The images built for real (``scripts/images/build.sh``: buildah, no Docker engine) and a private containerd
(Debian's) that runs them, as a kubelet would: read-only root filesystem, the image's own user, no new
privileges beyond the runtime's defaults."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.marks import needs
from tests.tooling import ROOT, await_build, run, stop

IMAGES_DIR = Path(os.environ.get("SMELT_IMAGES_DIR") or Path.home() / ".cache" / "smelt" / "images")
NAMESPACE = "smelt-tests"
#: The capabilities containerd grants by default: all dropped, as the charts' securityContexts do.
DEFAULT_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
    "CAP_AUDIT_WRITE",
)  # fmt: skip
TAG = "dev"


def _need(command: str, package: str) -> str:
    path = shutil.which(command)
    if not path:
        pytest.fail(f"{command} is missing: apt-get install {package} (a test that cannot run is a failure)")
    return path


@dataclass
class Containerd:
    socket: Path
    images: dict[str, str]  # name -> image reference

    def run(
        self, image: str, *args: str, env: dict[str, str] | None = None, detach: bool = False,
        timeout: float = 120, check: bool = True,
    ) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """``args`` in a new container of ``image``: host network, read-only root, a tmpfs on /tmp only."""
        name = f"t-{uuid.uuid4().hex[:10]}"
        flags = ["--net-host", "--read-only", "--seccomp",
                 "--mount", "type=tmpfs,src=tmpfs,dst=/tmp,options=rw:nosuid:nodev:mode=1777"]  # fmt: skip
        flags += [f"--cap-drop={cap}" for cap in DEFAULT_CAPABILITIES]  # ctr has no "ALL"
        flags += [f"--env={k}={v}" for k, v in (env or {}).items()]
        flags += ["--detach"] if detach else ["--rm"]
        return run(["ctr", "-a", str(self.socket), "-n", NAMESPACE, "run", *flags, self.images[image], name,
                    *args], timeout=timeout, check=check)  # fmt: skip

    def stop_all(self) -> None:
        """Kill and remove every container of the namespace (detached servers)."""
        ctr = ["ctr", "-a", str(self.socket), "-n", NAMESPACE]
        for name in run([*ctr, "containers", "list", "-q"], check=False).stdout.split():
            run([*ctr, "tasks", "kill", "-s", "SIGKILL", name], check=False)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if run([*ctr, "tasks", "delete", name], check=False).returncode == 0:
                    break
                time.sleep(0.3)
            run([*ctr, "containers", "delete", name], check=False)


@pytest.fixture(scope="session")
def containerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containerd]:
    """Both images built (warm: a no-op layer check) and imported into a containerd of the session's own."""
    needs("images", "buildah and containerd")
    for command, package in (("buildah", "buildah"), ("mmdebstrap", "mmdebstrap"),
                             ("containerd", "containerd"), ("runc", "runc")):  # fmt: skip
        _need(command, package)
    await_build("images")  # make test's background build; then this one is a no-op layer check
    built = run([ROOT / "scripts" / "images" / "build.sh"], timeout=2400)
    state = tmp_path_factory.mktemp("containerd")
    config = state / "config.toml"
    config.write_text(
        "version = 2\n"
        f'root = "{IMAGES_DIR / "containerd"}"\n'
        f'state = "{state / "state"}"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
        f'[grpc]\n  address = "{state / "containerd.sock"}"\n'
    )
    log = (state / "containerd.log").open("w")
    daemon = subprocess.Popen(["containerd", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)  # fmt: skip
    socket = state / "containerd.sock"
    try:
        deadline = time.monotonic() + 30
        while run(["ctr", "-a", str(socket), "version"], check=False).returncode != 0:
            assert daemon.poll() is None, (state / "containerd.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "containerd did not answer within 30 s"
            time.sleep(0.2)
        images = {}
        for name in ("pipeline", "dashboard"):
            archive = IMAGES_DIR / f"{name}.tar"
            assert archive.is_file(), f"scripts/images/build.sh left no {archive}:\n{built.stderr}"
            run(["ctr", "-a", str(socket), "-n", NAMESPACE, "images", "import", str(archive)], timeout=600)
            images[name] = f"localhost/smelt-{name}:{TAG}"
        plane = Containerd(socket, images)
        yield plane
        plane.stop_all()
    finally:
        stop(daemon, grace=20)
        log.close()
