#!/usr/bin/env bash
# Builds the runtime's native helpers (packages/runtime/native/*.c) into native/build/, static,
# so that tt-files runs inside any template (no libc needed there). Idempotent: a binary newer
# than its source is kept. The runtime builds them the same way on first use if this did not run.
set -euo pipefail
cd "$(dirname "$0")/../../packages/runtime/native"
CC=gcc
command -v musl-gcc >/dev/null 2>&1 && CC=musl-gcc
mkdir -p build/sandbox
build() { # source output
  if [ ! -x "$2" ] || [ "$1" -nt "$2" ]; then
    echo "setup: compiling $1"
    "$CC" -static -O2 -Wall -Wextra -o "$2.tmp" "$1"
    mv -f "$2.tmp" "$2"
  fi
}
build tt-files.c build/sandbox/tt-files
build tt-layer.c build/tt-layer
