#!/usr/bin/env bash
# Stop exactly what scripts/cluster/node/up.sh started (run/pids/<name>.pid), then remove the cluster's
# state (run/); containerd's root (the imported images) stays for the next start. Order matters:
#  1. the controllers first (else Deployments and workflows would recreate the pods being deleted);
#  2. every pod deleted through the API while the kubelet still runs, so the kubelet itself tears down
#     containers, sandboxes and volume mounts (containers removed behind the CRI's back leave sandbox
#     records that the next containerd start spends seconds recovering);
#  3. the rest of the control plane, then containerd, then any mount left under the state directories.
set -uo pipefail
DIR=${SMELT_NODE_DIR:-$HOME/.cache/smelt/node}
RUN=$DIR/run
SOCK=$DIR/containerd/containerd.sock
export PATH=${SMELT_TOOLS_DIR:-$HOME/.cache/smelt/tools}/bin:$PATH

START=$(date +%s.%N)
say() { printf "[node-down %ss] %s\n" "$(awk -v a="$(date +%s.%N)" -v b="$START" "BEGIN { printf \"%.1f\", a - b }")" "$*"; }
alive() { [[ -f $RUN/pids/$1.pid ]] && kill -0 "$(cat "$RUN/pids/$1.pid")" 2>/dev/null; }
stop() { # name [grace in 0.2 s ticks]
  local f=$RUN/pids/$1.pid pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq "${2:-75}"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; }
    say "stopped $1 (pid $pid)"
  fi
  rm -f "$f"
}

# the Argo controller's graceful shutdown takes ~15 s and has nothing to save here: 2 s, then KILL
stop workflow-controller 10
stop kube-controller-manager
if alive kubelet && alive kube-apiserver && alive containerd; then
  export KUBECONFIG=$RUN/kubeconfig
  kubectl delete pods --all --all-namespaces --grace-period=1 --wait=false >/dev/null 2>&1
  for _ in $(seq 60); do # until the kubelet has stopped every container and the pods are gone
    [[ -z $(ctr -a "$SOCK" -n k8s.io tasks ls -q 2>/dev/null) && -z $(kubectl get pods -A -o name 2>/dev/null) ]] && break
    sleep 0.5
  done
  say "pods deleted by the kubelet"
fi
for name in kubelet kube-scheduler kube-apiserver etcd; do stop "$name"; done
if alive containerd; then
  # containers the kubelet did not get to (it died, or timed out): kill their tasks, then remove them
  for c in $(ctr -a "$SOCK" -n k8s.io containers ls -q 2>/dev/null); do
    ctr -a "$SOCK" -n k8s.io tasks kill -s KILL "$c" >/dev/null 2>&1
  done
  for c in $(ctr -a "$SOCK" -n k8s.io containers ls -q 2>/dev/null); do
    ctr -a "$SOCK" -n k8s.io tasks delete -f "$c" >/dev/null 2>&1
    ctr -a "$SOCK" -n k8s.io containers delete "$c" >/dev/null 2>&1
  done
fi
stop containerd
# mounts left behind: kubelet volumes under run/, sandbox shm and rootfs mounts under containerd's state
grep -E " ($RUN|$DIR/containerd/state)/" /proc/mounts | awk '{print $2}' | sort -r |
  while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
[[ -d $RUN ]] && rm -rf "$RUN" && say "removed $RUN"
# the kubelet's cgroups (/kubepods/... in every v1 hierarchy), once empty
for h in /sys/fs/cgroup/*/kubepods; do
  [[ -d $h ]] && find "$h" -depth -type d -exec rmdir {} + 2>/dev/null
done
exit 0
