#!/bin/sh
# Install smelt into a new virtual environment from one runtime lock alone (hashes checked, bytecode
# compiled, no dev tools). Both image builds run exactly this; tests/manifests/test_images.py and
# tests/dashboard/test_image.py run it into a temporary folder and start what the image starts, which proves
# the install without a Docker engine.
#
#   images/install.sh VENV LOCK      from the repository root (the build context); LOCK is
#                                    requirements-pipeline.lock or requirements-dashboard.lock
#
# uv and setuptools, the only build tools, come from their hashed blocks in requirements.lock and live in a
# separate throwaway environment, so the image holds runtime packages only.
set -eu

venv=$1
lock=$2
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT

pinned() { # the hashed requirement block of one package in requirements.lock
  awk -v name="$1" '$0 ~ "^" name "==" { p = 1 } p { print; if ($0 !~ /\\$/) exit }' requirements.lock
}

python3 -m venv "$tools/env"
{ pinned uv; pinned setuptools; } >"$tools/requirements.txt"
"$tools/env/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$tools/requirements.txt"

python3 -m venv --without-pip "$venv"
"$tools/env/bin/uv" pip sync --quiet --python "$venv/bin/python" --require-hashes --compile-bytecode "$lock"
"$tools/env/bin/pip" wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w "$tools/dist" .
"$tools/env/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps --compile-bytecode "$tools"/dist/smelt-*.whl
