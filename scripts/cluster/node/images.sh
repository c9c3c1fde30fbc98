#!/usr/bin/env bash
# The real node's own images, built without a container engine and imported into containerd's k8s.io
# namespace (the one the kubelet's CRI sees):
#   localhost/smelt/pause:1        the pod sandbox (scripts/tools/pause, static), FROM scratch, user 65535
#   localhost/smelt/argoexec:$ARGO_VERSION   Argo's executor, from the same module copy as the controller
#   localhost/smelt/busybox:1      Debian's busybox-static, FROM scratch: quick real pods (tests, walk-through)
# Each is a docker-archive written by image.py into $DIR/images, rewritten only when its inputs are newer,
# and imported only when containerd does not hold that exact archive yet. Needs containerd running.
#   images.sh DIR SOCKET
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/tools/versions.env
source "$HERE/../../tools/versions.env"
DIR=$1 SOCK=$2
BIN=${SMELT_TOOLS_DIR:-$HOME/.cache/smelt/tools}/bin
IMAGES=$DIR/images STAMPS=$DIR/containerd/imported
mkdir -p "$IMAGES" "$STAMPS"

# image name ref inputs... -- image.py arguments: build $IMAGES/name.tar when an input is newer, then import
image() {
  local name=$1 ref=$2 tar=$IMAGES/$1.tar inputs=() stale=
  shift 2
  while [[ $1 != -- ]]; do inputs+=("$1"); shift; done
  shift
  [[ -f $tar ]] || stale=1
  for f in "${inputs[@]}" "$HERE/image.py"; do
    [[ -e $f ]] || { echo "missing $f: run 'make tools' (scripts/tools/install.sh node)" >&2; return 1; }
    [[ $f -nt $tar ]] && stale=1
  done
  [[ -z $stale ]] || python3 "$HERE/image.py" "$tar" "$ref" "$@" >&2
  local sum; sum=$(sha256sum "$tar" | cut -c1-64)
  if [[ $(cat "$STAMPS/$name" 2>/dev/null) != "$sum" ]] || ! ctr -a "$SOCK" -n k8s.io images ls -q | grep -qx "$ref"; then
    ctr -a "$SOCK" -n k8s.io images import "$tar" >/dev/null
    echo "$sum" >"$STAMPS/$name"
    echo "imported $ref ($(($(stat -c %s "$tar") / 1048576)) MiB)" >&2
  fi
}

etc=$IMAGES/etc
mkdir -p "$etc"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$etc/passwd.new"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$etc/group.new"
printf 'hosts: files dns\n' >"$etc/nsswitch.conf.new"
for f in passwd group nsswitch.conf; do # rewrite only on change, so the images stay fresh
  if cmp -s "$etc/$f.new" "$etc/$f"; then rm "$etc/$f.new"; else mv "$etc/$f.new" "$etc/$f"; fi
done

image pause localhost/smelt/pause:1 "$BIN/pause" -- \
  --entrypoint '["/pause"]' --user 65535:65535 "pause=$BIN/pause"

image argoexec "localhost/smelt/argoexec:$ARGO_VERSION" "$BIN/argoexec" "$etc/passwd" -- \
  --entrypoint '["argoexec"]' --env PATH=/bin "bin/" "bin/argoexec=$BIN/argoexec" "etc/" \
  "etc/passwd=$etc/passwd" "etc/group=$etc/group" "etc/nsswitch.conf=$etc/nsswitch.conf" "tmp/:1777"

busybox=$(command -v busybox || true)
[[ -n $busybox ]] || { echo "missing busybox: apt-get install busybox-static" >&2; exit 1; }
# FROM scratch: only a static busybox runs there (ldd fails on a static binary)
! ldd "$busybox" >/dev/null 2>&1 || { echo "$busybox is not static: apt-get install busybox-static" >&2; exit 1; }
links=()
for a in sh cat echo id ls sleep touch mkdir rm env date wget true false; do links+=("bin/$a->busybox"); done
image busybox localhost/smelt/busybox:1 "$busybox" "$etc/passwd" -- \
  --cmd '["/bin/sh"]' --env PATH=/bin "bin/" "bin/busybox=$busybox" "${links[@]}" "etc/" \
  "etc/passwd=$etc/passwd" "etc/group=$etc/group" "tmp/:1777"
