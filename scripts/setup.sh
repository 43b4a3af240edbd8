#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, run and test Tartarus, then builds it.
# Idempotent: on a machine that has everything it only checks and rebuilds what changed.
# Steps that belong to one part of the project live in scripts/setup.d/*.sh and run in order.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  runc runsc                     # container and gvisor drivers
  debootstrap busybox-static     # templates
  qemu-system-x86 qemu-utils     # microvm driver
  e2fsprogs cpio kmod            # microvm disk images and initramfs
  gcc libc6-dev                  # in-sandbox helper and guest agent, built from source here
  iproute2 nftables util-linux  # sandbox networks: namespaces, veths, the bridge; egress rules; nsenter
  dnsmasq-base                   # tests: a DNS server on loopback standing in for the upstream resolver
  postgresql redis-server        # store tests against PostgreSQL; distributed mode
  haproxy                        # tests: the load balancer of deploy/haproxy in front of server replicas
  skopeo umoci                   # OCI images: pull and unpack
  buildah                        # templates from a Dockerfile
  docker-registry apache2-utils  # tests: a registry on loopback, htpasswd for its basic auth
  curl                           # benchmarks: an HTTP client in its own process
  chromium                       # tests: the dashboard's end-to-end test drives it (playwright-core)
)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts these services on install; Tartarus starts its own instances when it needs them.
  for s in postgresql redis-server docker-registry haproxy; do $SUDO systemctl disable --now "$s" >/dev/null 2>&1 || true; done
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  npm ci --no-fund --no-audit --loglevel=error
fi

echo "setup: building"
# tsc, then the CLI's one-file bundle and the web dashboard's bundle (apps/web/dist, served at /).
npm run build --silent

for step in scripts/setup.d/*.sh; do
  [ -e "$step" ] || continue
  bash "$step"
done
echo "setup: done"
