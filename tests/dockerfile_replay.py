"""An image's build stage replayed without a container engine: its COPY and RUN lines in order, in a folder
that holds exactly what the Dockerfile copies, so a package the image lacks is missing here too.

Installing from the full checkout hid two broken images (issue 14): the pipeline's CLI imported the dashboard
package, which its Dockerfile never copies. Only ``images/install.sh`` runs; any other RUN is refused.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from tests.tooling import ROOT, run

IMAGE_VENV = "/opt/smelt"  # where the Dockerfiles install; replayed into a temporary folder instead
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "target", "logs", "dbt_packages")


def build_stage(dockerfile: Path) -> list[list[str]]:
    """The build stage's instructions (the lines before the second FROM), each as its words."""
    lines, current = [], ""
    for raw in dockerfile.read_text().splitlines():
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        current += text.removesuffix("\\").strip() + " "
        if not text.endswith("\\"):
            lines.append(shlex.split(current))
            current = ""
    froms = [i for i, words in enumerate(lines) if words[0].upper() == "FROM"]
    return lines[froms[0] + 1 : froms[1]]


def replay(dockerfile: Path, context: Path, venv: Path) -> None:
    """Copy and install as the build stage does, into ``venv`` instead of /opt/smelt."""
    context.mkdir(parents=True)
    for words in build_stage(dockerfile):
        op, args = words[0].upper(), [w for w in words[1:] if not w.startswith("--")]
        if op == "COPY":
            *sources, target = args
            for source in sources:
                _copy(ROOT / source, context / target if len(sources) == 1 and not target.endswith("/")
                      else context / target / Path(source).name)  # fmt: skip
        elif op == "RUN":
            assert args[0] == "images/install.sh", (
                f"{dockerfile}: only images/install.sh is replayed: {words}"
            )
            command = [str(venv) if a == IMAGE_VENV else a for a in args]
            run(["sh", *command], cwd=context, timeout=1500)
        elif op not in {"WORKDIR", "ARG", "ENV"}:
            raise AssertionError(f"{dockerfile}: {op} in the build stage is not replayed")


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, ignore=_IGNORED, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)
