#!/usr/bin/env bash
# microvm driver assets: the guest kernel and its virtio modules (from Debian's
# linux-image-*-cloud-amd64, fetched with apt-get download, never from elsewhere), the guest agent
# and the benchmark's bare init (built here from packages/runtime/guest), and the two initramfs
# images. Writes manifest.json, which the driver reads. Idempotent: only missing or outdated
# pieces are rebuilt (a kernel dir that lacks a module listed here is fetched again).
set -euo pipefail
SELF=$(realpath "$0")
cd "$(dirname "$0")/../.."
DIR="${TARTARUS_MICROVM_DIR:-/var/cache/tartarus/microvm}"
SRC=packages/runtime/guest
# Load order matters: each module's dependencies come first (there is no modprobe in the guest).
MODULES=(
  drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko drivers/virtio/virtio_mmio.ko
  drivers/block/virtio_blk.ko drivers/char/virtio_console.ko fs/overlayfs/overlay.ko
)
# Loaded only by a guest with a network (tt.ip= on its command line): a VM without one boots as before.
NET_MODULES=(net/core/failover.ko drivers/net/net_failover.ko drivers/net/virtio_net.ko)
mkdir -p "$DIR"

cloud_kernel() {
  apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {sub("linux-image-", "", $2); print $2; exit}'
}
kver=$(cloud_kernel)
if [ -z "$kver" ] && [ ! -d "$DIR/kernel" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && kver=$(cloud_kernel)
fi
if [ -z "$kver" ]; then
  kver=$(find "$DIR/kernel" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -1)
fi
[ -n "$kver" ] || { echo "microvm: cannot find linux-image-cloud-amd64 (apt-get update?)" >&2; exit 1; }
KDIR="$DIR/kernel/$kver"
complete=1
[ -f "$KDIR/vmlinuz" ] || complete=0
for m in "${MODULES[@]}" "${NET_MODULES[@]}"; do [ -f "$KDIR/modules/$(basename "$m")" ] || complete=0; done
if [ "$complete" = 0 ]; then
  echo "microvm: fetching linux-image-$kver with apt-get download"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download -q "linux-image-$kver" >/dev/null 2>&1)
  dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/x"
  mkdir -p "$KDIR.part/modules"
  cp "$tmp/x/boot/vmlinuz-$kver" "$KDIR.part/vmlinuz"
  cp "$tmp/x/boot/config-$kver" "$KDIR.part/config"
  for m in "${MODULES[@]}" "${NET_MODULES[@]}"; do cp "$tmp/x/lib/modules/$kver/kernel/$m" "$KDIR.part/modules/"; done
  rm -rf "$KDIR" && mv "$KDIR.part" "$KDIR"
  rm -rf "$tmp"; trap - EXIT
fi

CC=(gcc -static)
command -v musl-gcc >/dev/null && CC=(musl-gcc -static)
build() { # out, sources...
  local out=$1; shift
  local newer=0
  [ -f "$out" ] || newer=1
  for s in "$@" "$SRC/proto.h"; do [ "$s" -nt "$out" ] && newer=1; done
  if [ "$newer" = 1 ]; then
    echo "microvm: building $(basename "$out")"
    "${CC[@]}" -Os -Wall -o "$out.tmp" "$@" && mv "$out.tmp" "$out"
  fi
}
mkdir -p "$DIR/guest"
build "$DIR/guest/tartarus-guest" "$SRC/agent.c" "$SRC/exec.c" "$SRC/init.c" "$SRC/net.c" "$SRC/platform.c" "$SRC/wire.c" "$SRC/files.c"
build "$DIR/guest/bare-init" "$SRC/bare-init.c" "$SRC/init.c" "$SRC/net.c" "$SRC/wire.c"

initramfs() { # init binary, output, net (1: with the network modules)
  local init=$1 out=$2 net=$3
  # Older than this script: its module lists may have changed.
  if [ -f "$out" ] && [ "$out" -nt "$init" ] && [ "$out" -nt "$KDIR/vmlinuz" ] && [ "$out" -nt "$SELF" ]; then return; fi
  echo "microvm: building $(basename "$out")"
  local stage; stage=$(mktemp -d)
  mkdir -p "$stage/lib/modules" "$stage"/{dev,proc,sys,lower,rw,root}
  cp "$init" "$stage/init"
  for m in "${MODULES[@]}"; do cp "$KDIR/modules/$(basename "$m")" "$stage/lib/modules/"; basename "$m"; done > "$stage/lib/modules/order"
  if [ "$net" = 1 ]; then
    for m in "${NET_MODULES[@]}"; do cp "$KDIR/modules/$(basename "$m")" "$stage/lib/modules/"; basename "$m"; done > "$stage/lib/modules/net"
  fi
  # Uncompressed: under software emulation, unpacking gzip in the guest costs more than reading the bytes.
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 > "$out.tmp") && mv "$out.tmp" "$out"
  rm -rf "$stage"
}
initramfs "$DIR/guest/tartarus-guest" "$DIR/initramfs.cpio" 1
initramfs "$DIR/guest/bare-init" "$DIR/bare-initramfs.cpio" 0

cat > "$DIR/manifest.json.tmp" <<JSON
{
  "version": 1,
  "kernelVersion": "$kver",
  "kernel": "$KDIR/vmlinuz",
  "initramfs": "$DIR/initramfs.cpio",
  "bareInitramfs": "$DIR/bare-initramfs.cpio",
  "agent": "$DIR/guest/tartarus-guest",
  "modules": [$(printf '"%s",' "${MODULES[@]##*/}" | sed 's/,$//')],
  "netModules": [$(printf '"%s",' "${NET_MODULES[@]##*/}" | sed 's/,$//')]
}
JSON
mv "$DIR/manifest.json.tmp" "$DIR/manifest.json"
echo "microvm: assets ready in $DIR (kernel $kver)"
