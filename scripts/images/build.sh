#!/usr/bin/env bash
# Build smelt's images without a Docker engine: `buildah bud` on each Dockerfile as written, then (when a
# containerd socket is given) import them where a kubelet finds them.
#
#   scripts/images/build.sh [pipeline] [dashboard] [s3]   (default: all three)   make images
#
# s3 (images/s3/Dockerfile) is the S3-compatible server (moto) of the real node's chart profile, whose
# registry-less machine cannot pull MinIO.
#
# The Dockerfiles start FROM python:3.11.14-slim-bookworm. Where no registry is reachable (these machines),
# that name is made locally once: a Debian bookworm root filesystem with python3, python3-venv and
# ca-certificates from the host's apt sources (mmdebstrap --variant=minbase), committed with buildah under
# the Dockerfile's base name, so `--pull=never` resolves it. With a registry, SMELT_IMAGE_PULL=1 builds on
# the real base instead. Everything is stored in ${SMELT_IMAGES_DIR:-~/.cache/smelt/images}, outside the work
# tree: buildah's storage, the base tarball, the exported images (<name>.tar, docker-archive).
#
# RUN steps use the host's network (buildah's default is a CNI bridge on a private range: never here) and
# the host's CA bundle through build-time mounts only (PyPI may sit behind a TLS-intercepting proxy whose CA
# only the host trusts): pip and uv read it from mounted config files that never reach an image layer.
#
# SMELT_CONTAINERD_SOCK: import each image into that containerd's k8s.io namespace (the real node's).
# Prints one line per image: name, size, build seconds.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${SMELT_IMAGES_DIR:-$HOME/.cache/smelt/images}
BASE=$(sed -n 's/^ARG PYTHON_IMAGE=//p' "$ROOT/images/pipeline/Dockerfile")
TAG=${SMELT_IMAGE_TAG:-dev}
mkdir -p "$OUT/conf"
START=$(date +%s)
say() { printf '[images %4ss] %s\n' "$(($(date +%s) - START))" "$*" >&2; }
bah() { buildah --root "$OUT/storage" --runroot "$OUT/run" --storage-driver overlay "$@"; }

for cmd in buildah mmdebstrap; do
  command -v "$cmd" >/dev/null || { echo "$cmd is missing: apt-get install buildah mmdebstrap" >&2; exit 1; }
done

base_image() { # the Dockerfiles' FROM, made locally from Debian packages unless it is there or pulled
  [[ -n ${SMELT_IMAGE_PULL:-} ]] && return 0
  bah inspect --type image "$BASE" >/dev/null 2>&1 && return 0
  local rootfs=$OUT/bookworm-python.tar
  if [[ ! -s $rootfs ]]; then
    say "making the base $BASE: Debian bookworm minbase + python3, python3-venv, ca-certificates"
    # shellcheck disable=SC2016 # "$1" is mmdebstrap's root folder, expanded by mmdebstrap itself
    mmdebstrap --quiet --variant=minbase --mode=root --include=python3,python3-venv,ca-certificates \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
      bookworm "$rootfs.partial.tar" && mv "$rootfs.partial.tar" "$rootfs"
  fi
  local c
  c=$(bah from scratch)
  bah add "$c" "$rootfs" / >/dev/null
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 \
    --cmd '["python3"]' "$c"
  bah commit --quiet --rm "$c" "$BASE" >/dev/null
  say "base $BASE ready"
}

tls_mounts() { # the host's CA bundle for RUN steps, and pip/uv settings that use it (never in a layer)
  local bundle=/etc/ssl/certs/ca-certificates.crt
  [[ -s $bundle ]] || return 0
  printf '[global]\ncert = %s\n' "$bundle" >"$OUT/conf/pip.conf"
  printf 'native-tls = true\n' >"$OUT/conf/uv.toml"
  printf '%s\n' -v "$bundle:$bundle:ro" -v "$OUT/conf/pip.conf:/etc/pip.conf:ro" \
    -v "$OUT/conf/uv.toml:/etc/uv/uv.toml:ro"
}

build() { # name: images/<name>/Dockerfile -> smelt-<name>:TAG (+ <name>.tar, + containerd import)
  local name=$1 image=localhost/smelt-$1:$TAG started
  started=$(date +%s)
  local mounts=()
  mapfile -t mounts < <(tls_mounts)
  local pull=(--pull=never)
  [[ -n ${SMELT_IMAGE_PULL:-} ]] && pull=(--pull=true)
  say "building $image"
  bah bud --quiet "${pull[@]}" --network host --isolation oci --layers --format docker "${mounts[@]}" \
    -f "$ROOT/images/$name/Dockerfile" -t "$image" "$ROOT" >/dev/null
  local id
  id=$(bah images --no-trunc --format '{{.ID}}' "$image")
  if [[ ! -s $OUT/$name.tar || $(cat "$OUT/$name.id" 2>/dev/null) != "$id" ]]; then # export what changed
    rm -f "$OUT/$name.tar" "$OUT/$name.id"
    bah push --quiet "$image" "docker-archive:$OUT/$name.tar:$image"
    echo "$id" >"$OUT/$name.id"
  fi
  if [[ -n ${SMELT_CONTAINERD_SOCK:-} ]]; then
    ctr -a "$SMELT_CONTAINERD_SOCK" -n k8s.io images import "$OUT/$name.tar" >/dev/null
  fi
  local size
  size=$(bah images --format '{{.Size}}' "$image" 2>/dev/null || echo "?")
  printf '%s\t%s\t%ss\n' "$image" "$size" "$(($(date +%s) - started))"
}

base_image
names=("$@")
((${#names[@]})) || names=(pipeline dashboard s3)
for name in "${names[@]}"; do
  [[ -f $ROOT/images/$name/Dockerfile ]] || { echo "no images/$name/Dockerfile" >&2; exit 2; }
  build "$name"
done
say "done"
