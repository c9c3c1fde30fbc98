#!/usr/bin/env bash
# `make test`: every suite in one pytest session, while the Go tools (scripts/tools/install.sh) and the images
# (scripts/images/build.sh) build in the background. Both are no-ops when warm; cold, the tools take 22-41 min
# that the suites needing neither (pipeline, dashboard, dbt, ...) use instead of waiting. Those suites run
# first (tests/conftest.py orders the `tools`, `cluster` and `images` tests last) and a test that needs a build
# waits for it (tests/tooling.py: await_build), failing with the build's log if it failed.
#
#   scripts/test.sh [pytest arguments]
# The builds' logs are in $SMELT_BACKGROUND_BUILDS (printed); make test fails if a build failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

builds=$(mktemp -d /tmp/smelt-builds.XXXXXX)
export SMELT_BACKGROUND_BUILDS=$builds
background() { # name command...: run it, then record its exit status in <name>.rc
  local name=$1; shift
  ("$@" >"$builds/$name.log" 2>&1; echo $? >"$builds/$name.rc") &
}
background tools scripts/tools/install.sh all
background images scripts/images/build.sh
echo "tools and images build in the background: $builds/{tools,images}.log"

"${PYTHON:-.venv/bin/python}" -m pytest "$@"
status=$?

wait
for name in tools images; do
  rc=$(cat "$builds/$name.rc" 2>/dev/null || echo "?")
  grep -h '^\[tools\|^\[images\|^localhost/' "$builds/$name.log" | tail -n 20 # what was built, how long
  if [[ $rc != 0 ]]; then
    echo "building the $name failed (exit $rc); the end of $builds/$name.log:" >&2
    tail -n 40 "$builds/$name.log" >&2
    status=1
  fi
done
exit "$status"
