/**
 * The adversarial workloads of `tests/workloads/*.json` (see its README): loading them and
 * checking one run's result against its expectations. The test file runs them per driver.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { ExitReason, ResourceLimits } from '../driver.js';

/** Where the fixtures live: `$TARTARUS_REPO_ROOT/tests/workloads`, else relative to this package. */
export const WORKLOADS_DIR = process.env.TARTARUS_REPO_ROOT
  ? join(process.env.TARTARUS_REPO_ROOT, 'tests', 'workloads')
  : fileURLToPath(new URL('../../../../tests/workloads/', import.meta.url));

/** What one run must end with. */
export interface WorkloadExpect {
  reason: ExitReason[];
  exitCode?: 'zero' | 'nonzero';
  stdoutIncludes?: string[];
  stdoutExcludes?: string[];
  stderrIncludes?: string[];
  stdoutTruncated?: boolean;
  maxStdoutBytes?: number;
}

/** One sandbox of a workload. */
export interface WorkloadRun {
  command: string;
  user?: string;
  limits?: Partial<ResourceLimits>;
  timeoutMs?: number;
  outputLimitBytes?: number;
  killGraceMs?: number;
  expect: WorkloadExpect;
}

/** A fixture file. */
export interface Workload {
  name: string;
  description: string;
  template?: string;
  runs: WorkloadRun[];
  hostMustNotExist?: string[];
}

/** Every fixture, by file name, with `${CANARY}` replaced by `canary`. */
export function loadWorkloads(canary: string): Workload[] {
  return readdirSync(WORKLOADS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const text = readFileSync(join(WORKLOADS_DIR, f), 'utf8').replaceAll('${CANARY}', canary);
      return { name: f.replace(/\.json$/, ''), ...(JSON.parse(text) as Omit<Workload, 'name'>) };
    });
}

/** Asserts that a run's result meets `e`. */
export function checkRun(e: WorkloadExpect, r: { reason: ExitReason; exitCode: number | null; stdout: Buffer; stderr: Buffer; stdoutTruncated: boolean; message?: string }): void {
  const out = r.stdout.toString();
  const err = r.stderr.toString();
  const why = `reason ${r.reason}, exit ${r.exitCode}, ${r.message ?? ''}\nstdout: ${out.slice(0, 400)}\nstderr: ${err.slice(0, 400)}`;
  assert.ok(e.reason.includes(r.reason), `expected reason ${e.reason.join('|')}; ${why}`);
  if (e.exitCode === 'zero') assert.equal(r.exitCode, 0, why);
  if (e.exitCode === 'nonzero') assert.ok(r.exitCode !== 0, why);
  for (const s of e.stdoutIncludes ?? []) assert.ok(out.includes(s), `stdout lacks ${JSON.stringify(s)}; ${why}`);
  for (const s of e.stdoutExcludes ?? []) assert.ok(!out.includes(s), `stdout shows ${JSON.stringify(s)}; ${why}`);
  for (const s of e.stderrIncludes ?? []) assert.ok(err.includes(s), `stderr lacks ${JSON.stringify(s)}; ${why}`);
  if (e.stdoutTruncated !== undefined) assert.equal(r.stdoutTruncated, e.stdoutTruncated, why);
  if (e.maxStdoutBytes !== undefined) assert.ok(r.stdout.length <= e.maxStdoutBytes, `captured ${r.stdout.length} bytes`);
}
