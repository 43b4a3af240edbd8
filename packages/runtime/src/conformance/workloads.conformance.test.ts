// Every adversarial workload of tests/workloads/ against every available driver: contained,
// with the expected reason, and the host unaffected (no leftovers, no file written outside).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { assertNoLeaks, snapshotHost } from '../testing/leaks.js';
import { testRuntime, type TestRuntime } from '../testing/runtime.js';
import { conformanceDrivers, skipReason } from './suite.js';
import { checkRun, loadWorkloads } from './workloads.js';

const canary = `canary${randomBytes(6).toString('hex')}`;
const workloads = loadWorkloads(canary);

for (const name of conformanceDrivers()) {
  const skip = await skipReason(name);
  if (skip) console.log(`# workloads: ${name} skipped: ${skip}`);
  describe(`workloads: ${name}`, { skip }, () => {
    let t: TestRuntime;
    let n = 0;
    const idPrefix = `wl-${name.slice(0, 3)}-${process.pid.toString(36)}`;
    before(async () => {
      t = await testRuntime();
      process.env.TARTARUS_WORKLOAD_CANARY = canary;
    });
    after(async () => {
      delete process.env.TARTARUS_WORKLOAD_CANARY;
      await t.dispose();
    });
    for (const w of workloads) {
      test(`${w.name}: ${w.description}`, async () => {
        const snapshot = await snapshotHost();
        for (const run of w.runs) {
          const { expect, command, ...rest } = run;
          const r = await t.runtime.run({ id: `${idPrefix}-${n++}`, runtime: name, template: w.template ?? 'busybox', command, ...rest });
          checkRun(expect, r);
        }
        for (const p of w.hostMustNotExist ?? []) assert.ok(!existsSync(p), `the workload wrote ${p} on the host`);
        assert.deepEqual(await t.runtime.list(), []);
        await assertNoLeaks(snapshot, { path: t.stateDir, idPrefix });
      });
    }
  });
}
