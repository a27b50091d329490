#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the Containerfile and checks the image: it builds from the same meson
# build, runs `plimsoll version` with the right commit, runs as uid 65532 with
# plimsoll as the entrypoint, holds no shell or package manager, and is small.
#
# No container registry is reachable here, so the Debian base image is made
# from Debian's own mirror with debootstrap and the build runs daemonless with
# buildah (chroot isolation). Where a registry is reachable, plain
# `docker build -f Containerfile .` or `podman build .` does the same.
# Prints ok/not ok lines and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }

export DEBIAN_FRONTEND=noninteractive
for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || apt-get install -y -qq "$tool" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq "$tool" >/dev/null 2>&1; }
done
command -v buildah >/dev/null && command -v debootstrap >/dev/null || { not_ok "buildah and debootstrap install"; finish; }

base=${PLIMSOLL_IMAGE_ROOTFS:-/tmp/plimsoll-bookworm-rootfs}
if [ ! -x "$base/usr/bin/apt-get" ]; then
  rm -rf "$base"
  debootstrap --variant=minbase bookworm "$base" http://deb.debian.org/debian >/tmp/plimsoll-debootstrap.log 2>&1 ||
    { tail -5 /tmp/plimsoll-debootstrap.log; not_ok "debootstrap a bookworm base"; finish; }
fi
ctr=$(buildah from scratch) && mnt=$(buildah mount "$ctr") && cp -a "$base/." "$mnt/" &&
  buildah umount "$ctr" >/dev/null && buildah commit -q "$ctr" localhost/plimsoll-bookworm-base >/dev/null &&
  buildah rm "$ctr" >/dev/null && ok "bookworm base image from Debian's mirror" ||
  { not_ok "bookworm base image"; finish; }

log=/tmp/plimsoll-image-build.log
if buildah bud --isolation chroot --build-arg DEBIAN_IMAGE=localhost/plimsoll-bookworm-base \
     -f Containerfile -t localhost/plimsoll:test . >"$log" 2>&1; then
  ok "Containerfile builds"
else
  tail -20 "$log"; not_ok "Containerfile builds"; finish
fi

run=$(buildah from localhost/plimsoll:test)
out=$(buildah run --isolation chroot "$run" -- /usr/bin/plimsoll version 2>&1)
commit=$(git rev-parse --short=12 HEAD)
case $out in
  "plimsoll "*"commit $commit"*) ok "the image runs plimsoll version ($out)" ;;
  *) not_ok "the image runs plimsoll version with commit $commit: $out" ;;
esac
config=$(buildah inspect --format '{{.OCIv1.Config.User}} {{.OCIv1.Config.Entrypoint}}' localhost/plimsoll:test)
[ "$config" = "65532:65532 [/usr/bin/plimsoll]" ] && ok "non-root user and plimsoll entrypoint ($config)" ||
  not_ok "user/entrypoint: $config"
mnt=$(buildah mount "$run")
if [ ! -e "$mnt/bin/sh" ] && [ ! -e "$mnt/usr/bin/apt-get" ] && [ ! -e "$mnt/usr/bin/dpkg" ]; then
  ok "no shell or package manager in the image"
else
  not_ok "the image holds a shell or a package manager"
fi
size=$(du -sm "$mnt" | cut -f1)
[ "$size" -lt 40 ] && ok "the image is small (${size} MiB)" || not_ok "the image is ${size} MiB"
buildah umount "$run" >/dev/null
buildah rm "$run" >/dev/null
finish
