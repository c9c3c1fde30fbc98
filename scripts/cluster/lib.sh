# Shared by scripts/cluster/up.sh and scripts/cluster/node/up.sh (sourced, after RUN and say() are set).
# shellcheck shell=bash

start() { # name command...: own session (pgid == pid), recorded in $RUN/pids for down.sh
  local name=$1; shift
  setsid "$@" >"$RUN/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/pids/$name.pid"
}

wait_for() { # what timeout_s command...: poll until the command succeeds
  local what=$1 deadline=$(($(date +%s) + $2)); shift 2
  until "$@" >/dev/null 2>&1; do
    if (($(date +%s) > deadline)); then
      echo "timed out waiting for $what" >&2
      return 1
    fi
    sleep 0.3
  done
  say "$what ready"
}
