#!/usr/bin/env bash
# Host limits a node needs: gVisor's sentry backs each sandbox process with many host tasks (a
# fork bomb held to 64 processes churns through ~4000), so the host's pid space must be far
# larger than Debian's default of 32768 (kernel.pid_max; 4194304 is the 64-bit maximum, as
# container hosts commonly set). Persisted in /etc/sysctl.d and applied now. Idempotent.
set -euo pipefail
want=4194304
conf=/etc/sysctl.d/60-tartarus.conf
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: not root: leaving kernel.pid_max at $(cat /proc/sys/kernel/pid_max) (gVisor sandboxes want $want)"
  exit 0
fi
if [ "$(cat /proc/sys/kernel/pid_max)" -lt "$want" ]; then
  printf '# Written by Tartarus setup: room for gVisor sandboxes'"'"' host tasks.\nkernel.pid_max = %s\n' "$want" > "$conf"
  if sysctl -q -w kernel.pid_max="$want" >/dev/null 2>&1; then
    echo "setup: kernel.pid_max raised to $want"
  else
    echo "setup: could not raise kernel.pid_max (read-only /proc/sys?): gVisor fork bombs may exhaust host pids"
  fi
fi
