"""Write a one-layer container image as a docker-archive tarball, with no container engine.

    image.py OUT.tar REF [--entrypoint JSON] [--cmd JSON] [--user U] [--env K=V]... ENTRY...

ENTRY is ``dest=src`` (a file copied, mode kept), ``dest/`` (a directory, 0755), ``dest/:1777`` (a directory
with that mode) or ``dest->target`` (a symlink). The archive is what ``ctr images import`` reads (the same
layout ``docker save`` writes): manifest.json, the config blob and one uncompressed layer. Owner root,
timestamps 0, entries sorted: the same inputs give the same bytes, so the image id is stable.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path


def _info(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name.strip("/"))
    info.type, info.mode, info.mtime, info.uid, info.gid = kind, mode, 0, 0, 0
    return info


def layer(entries: list[str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(entries):
            if "->" in entry:
                dest, target = entry.split("->", 1)
                info = _info(dest, tarfile.SYMTYPE, 0o777)
                info.linkname = target
                tar.addfile(info)
            elif "=" in entry:
                dest, src = entry.split("=", 1)
                data = Path(src).read_bytes()
                info = _info(dest, tarfile.REGTYPE, os.stat(src).st_mode & 0o7777)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                dest, _, mode = entry.partition(":")
                tar.addfile(_info(dest, tarfile.DIRTYPE, int(mode or "755", 8)))
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("ref")
    parser.add_argument("--entrypoint", type=json.loads)
    parser.add_argument("--cmd", type=json.loads)
    parser.add_argument("--user")
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("entries", nargs="+")
    args = parser.parse_args()

    blob = layer(args.entries)
    diff_id = "sha256:" + hashlib.sha256(blob).hexdigest()
    config: dict[str, object] = {"Env": args.env or ["PATH=/bin"]}
    if args.entrypoint is not None:
        config["Entrypoint"] = args.entrypoint
    if args.cmd is not None:
        config["Cmd"] = args.cmd
    if args.user:
        config["User"] = args.user
    image = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "scripts/cluster/node/image.py"}],
    }
    config_bytes = json.dumps(image, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id.removeprefix("sha256:") + "/layer.tar"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [args.ref], "Layers": [layer_name]}]).encode()

    tmp = args.out.with_suffix(".tmp")
    with tarfile.open(tmp, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in ((config_name, config_bytes), (layer_name, blob), ("manifest.json", manifest)):
            info = _info(name, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tmp.replace(args.out)
    print(f"{args.ref}: {args.out} ({len(blob) // 1024} KiB layer, config {config_name[:12]})")


if __name__ == "__main__":
    main()
