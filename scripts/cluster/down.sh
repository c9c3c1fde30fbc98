#!/usr/bin/env bash
# Stop exactly the processes scripts/cluster/up.sh started (pids/<name>.pid), newest first, then delete the
# control plane's state: every start is a fresh, empty cluster. Nothing else on the machine is touched.
# SMELT_NODE=real stops the real-node cluster instead (scripts/cluster/node/down.sh).
set -uo pipefail
[[ ${SMELT_NODE:-kwok} != real ]] || exec "$(dirname "${BASH_SOURCE[0]}")/node/down.sh"
RUN=${SMELT_CLUSTER_DIR:-$HOME/.cache/smelt/cluster}
for name in taskresults workflow-controller kwok kube-scheduler kube-apiserver etcd; do
  f=$RUN/pids/$name.pid
  [[ -f $f ]] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; }
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$f"
done
[[ -d $RUN ]] && rm -rf "$RUN" && echo "removed $RUN"
exit 0
