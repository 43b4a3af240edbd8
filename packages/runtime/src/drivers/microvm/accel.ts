/**
 * Choosing how QEMU runs guest code. `/dev/kvm` can exist and still be unable to run a guest
 * (nested virtualization that hangs, as on some CI machines), so `auto` probes it once with a
 * short test boot: the kernel with an init that does not exist panics and, with `-no-reboot`,
 * QEMU exits at once; under a working KVM that takes well under a second. The answer is cached
 * per host boot in /run/tartarus/kvm-probe.json. When KVM fails, `auto` falls back to QEMU's
 * software emulation (TCG) and says so in one line.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidArgumentError, TimeoutError } from '@tartarus/core';
import { runCommand } from '../../process/run.js';
import type { Accel } from './argv.js';
import { readable } from './assets.js';

/** What the caller asks for: a forced accelerator, or `auto` (KVM if a test boot works). */
export type AccelOption = Accel | 'auto';

/** Where the probe result is cached (valid for one host boot). */
export const PROBE_CACHE = '/run/tartarus/kvm-probe.json';
/** How long the probe boot may take before KVM is declared unusable, ms. */
export const PROBE_TIMEOUT_MS = 6000;

interface ProbeRecord {
  bootId: string;
  kvm: boolean;
  detail: string;
}

let probed: Promise<ProbeRecord> | undefined;

/** `given`, else `$TARTARUS_MICROVM_ACCEL`, else `auto`; `InvalidArgumentError` for any other value. */
export function accelOption(given?: string): AccelOption {
  const accel = given ?? process.env.TARTARUS_MICROVM_ACCEL ?? 'auto';
  if (accel !== 'kvm' && accel !== 'tcg' && accel !== 'auto') {
    throw new InvalidArgumentError(`accel must be kvm, tcg or auto, got ${JSON.stringify(accel)}`);
  }
  return accel;
}

/** Resolves `option` to the accelerator to use, probing KVM at most once per host boot. */
export async function resolveAccel(
  option: AccelOption,
  kernel: string,
): Promise<{ accel: Accel; detail: string }> {
  if (option !== 'auto') return { accel: option, detail: `${option} (forced)` };
  probed ??= probeKvm(kernel).then((r) => {
    if (!r.kvm)
      console.warn(
        `microvm: KVM cannot run guests here (${r.detail}); using QEMU software emulation (TCG), which is much slower`,
      );
    return r;
  });
  const r = await probed;
  return { accel: r.kvm ? 'kvm' : 'tcg', detail: r.kvm ? 'kvm' : `tcg (${r.detail})` };
}

async function probeKvm(kernel: string): Promise<ProbeRecord> {
  const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
  const cached = await readFile(PROBE_CACHE, 'utf8').then(
    (s) => JSON.parse(s) as ProbeRecord,
    () => undefined,
  );
  if (cached && cached.bootId === bootId) return cached;
  const record = { bootId, ...(await testBoot(kernel)) };
  await mkdir(dirname(PROBE_CACHE), { recursive: true }).catch(() => undefined);
  await writeFile(PROBE_CACHE, JSON.stringify(record)).catch(() => undefined);
  return record;
}

async function testBoot(kernel: string): Promise<{ kvm: boolean; detail: string }> {
  if (!(await readable('/dev/kvm'))) return { kvm: false, detail: '/dev/kvm is missing' };
  // prettier-ignore
  const argv = [
    'qemu-system-x86_64', '-M', 'microvm', '-accel', 'kvm', '-cpu', 'host', '-m', '128M', '-smp', '1',
    '-nodefaults', '-no-user-config', '-nographic', '-no-reboot', '-kernel', kernel,
    '-append', 'console=ttyS0 quiet panic=-1 rdinit=/tartarus-kvm-probe', '-serial', 'null',
  ];
  try {
    const res = await runCommand(argv, { timeoutMs: PROBE_TIMEOUT_MS, allowNonZero: true });
    if (res.exitCode === 0) return { kvm: true, detail: 'test boot finished' };
    return {
      kvm: false,
      // split() always yields a first line, so an empty stderr needs `||` to show the exit status.
      detail: `test boot failed: ${res.stderr.trim().split('\n')[0] || `exit ${res.exitCode ?? res.signal}`}`,
    };
  } catch (e) {
    // A timeout means a hanging KVM; anything else (e.g. no qemu binary) is reported as it is.
    if (!(e instanceof TimeoutError)) return { kvm: false, detail: `test boot failed: ${(e as Error).message}` };
    return { kvm: false, detail: `test boot did not finish within ${PROBE_TIMEOUT_MS} ms` };
  }
}

/** The host's TSC rate in kHz (a TCG guest reads the host TSC), from /proc/cpuinfo; undefined if unknown. */
export async function hostTscKhz(): Promise<number | undefined> {
  const info = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1];
  return mhz ? Math.round(Number(mhz) * 1000) : undefined;
}
