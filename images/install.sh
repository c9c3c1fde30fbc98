#!/bin/sh
# Install smelt into a virtual environment from one runtime lock alone (hashes checked, bytecode compiled, no
# dev tools), in two steps so that an image rebuilds its dependency layer only when a lock changes:
#
#   images/install.sh deps VENV LOCK   the lock's packages (needs only the locks and this script)
#   images/install.sh app VENV         smelt itself, built from the sources in the current folder
#
# Run from the build context's root. LOCK is requirements-pipeline.lock or requirements-dashboard.lock.
# uv and setuptools, the only build tools, come from their hashed blocks in requirements.lock into VENV.tools,
# beside the environment, so the image (which copies VENV alone) holds runtime packages only; `app` removes it.
# Both Dockerfiles run exactly this; the image tests run it on a copy of what each Dockerfile copies.
set -eu

usage() { echo "usage: images/install.sh deps VENV LOCK | app VENV" >&2; exit 2; }
[ $# -ge 2 ] || usage
step=$1
venv=$2
tools=$venv.tools

pinned() { # the hashed requirement block of one package in requirements.lock
  awk -v name="$1" '$0 ~ "^" name "==" { p = 1 } p { print; if ($0 !~ /\\$/) exit }' requirements.lock
}

case $step in
  deps)
    [ $# -eq 3 ] || usage
    python3 -m venv "$tools"
    { pinned uv; pinned setuptools; } >"$tools/requirements.txt"
    "$tools/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$tools/requirements.txt"
    python3 -m venv --without-pip "$venv"
    "$tools/bin/uv" pip sync --quiet --python "$venv/bin/python" --require-hashes --compile-bytecode "$3"
    ;;
  app)
    [ $# -eq 2 ] || usage
    [ -x "$tools/bin/uv" ] || { echo "images/install.sh: run 'deps' first ($tools has no uv)" >&2; exit 2; }
    "$tools/bin/pip" wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w "$tools/dist" .
    "$tools/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps --compile-bytecode "$tools"/dist/smelt-*.whl
    rm -rf "$tools"
    ;;
  *) usage ;;
esac
