/**
 * VM sizing. The guest gets the sandbox's memory limit plus room for its own kernel and agent
 * (the workloads' cgroup inside the guest enforces the limit itself, so an OOM is reported as
 * such and the agent survives it). QEMU's cgroup on the host adds QEMU's own overhead on top.
 */
import type { Accel } from './argv.js';

/** Guest RAM for a sandbox memory limit, MiB: limit + 64 MiB, at least 128 MiB. */
export function guestMemoryMiB(limitMiB: number): number {
  return Math.max(128, Math.ceil(limitMiB) + 64);
}

/** QEMU's memory beyond guest RAM, MiB: device emulation, plus the translation cache under TCG (64 MiB). */
export function qemuOverheadMiB(accel: Accel): number {
  return accel === 'tcg' ? 192 : 96;
}
