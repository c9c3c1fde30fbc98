"""Check a Go module zip against its go.sum hash (``h1:``, Go's dirhash Hash1) before it is unpacked.

Usage: python3 gosum.py MODULE.zip h1:BASE64
Hash1 is the SHA-256 of the sorted lines ``<sha256 hex of file>  <name in zip>\\n``, in base64.
"""

import base64
import hashlib
import sys
import zipfile


def hash1(path: str) -> str:
    with zipfile.ZipFile(path) as archive:
        lines = [
            f"{hashlib.sha256(archive.read(name)).hexdigest()}  {name}\n"
            for name in sorted(archive.namelist())
            if not name.endswith("/")
        ]
    return "h1:" + base64.b64encode(hashlib.sha256("".join(lines).encode()).digest()).decode()


if __name__ == "__main__":
    zip_path, expected = sys.argv[1], sys.argv[2]
    actual = hash1(zip_path)
    if actual != expected:
        sys.exit(f"{zip_path}: go.sum hash {actual} does not match the pinned {expected}; not using it")
