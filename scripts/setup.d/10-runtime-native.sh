#!/usr/bin/env bash
# Builds the runtime's native helpers into packages/runtime/native/build/, static, so that
# tt-init (the in-sandbox agent of container and gVisor sandboxes, from packages/runtime/guest,
# the same sources as the microVM guest agent) runs inside any template (no libc needed there).
# Idempotent: a binary newer than its sources is kept. The runtime builds them the same way on
# first use if this did not run.
set -euo pipefail
cd "$(dirname "$0")/../../packages/runtime/native"
CC=gcc
command -v musl-gcc >/dev/null 2>&1 && CC=musl-gcc
mkdir -p build/sandbox
build() { # output sources...
  local out="$1" stale=0
  shift
  [ -x "$out" ] || stale=1
  for src in "$@" ../guest/proto.h; do [ "$src" -nt "$out" ] && stale=1; done
  if [ "$stale" = 1 ]; then
    echo "setup: compiling $out"
    "$CC" -static -O2 -Wall -Wextra -o "$out.tmp" "$@"
    mv -f "$out.tmp" "$out"
  fi
}
G=../guest
build build/sandbox/tt-init $G/agent.c $G/exec.c $G/container.c $G/wire.c $G/files.c
build build/tt-layer tt-layer.c netlink.c serve.c snapshot.c
build build/tt-splice tt-splice.c
