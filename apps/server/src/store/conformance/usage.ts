/** Conformance: usage reports kept once per report, billed to their work's tenant, summed by day, tenant and runtime. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileSandbox } from '@tartarus/core';
import type { UsageRecordInput } from '../usage.js';
import { runSpec, withStore, type BackendFixture } from './harness.js';

const DAY = 86_400_000;

/** Defines the usage tests for a backend. */
export function usageSuite(fx: BackendFixture): void {
  describe('usage', () => {
    test('reports are billed to the tenant of their run or sandbox, once each, and summed by group', () =>
      withStore(fx, async ({ store, clock }) => {
        const a = await store.tenants.create({ name: 'a' });
        const b = await store.tenants.create({ name: 'b' });
        const run = (await store.runs.submit(a.id, runSpec({ command: ['true'] }))).run;
        const sbx = await store.sandboxes.create(b.id, { runtime: 'gvisor', template: 'busybox', spec: compileSandbox({}, null) });
        const day0 = Math.floor(clock.now / DAY) * DAY;
        const report = (workId: string, seq: number, atMs: number, runtime = 'container'): UsageRecordInput => ({
          nodeId: 'n1', workId, epoch: 1, seq, runtime, atMs,
          cpuSeconds: 1.5, memoryGibSeconds: 0.25, sandboxSeconds: 10, egressBytes: 3_000_000_000,
        });
        assert.equal(await store.usage.record(report(run.id, 1, day0 + 1000)), a.id);
        // The same report again (a resend after a reconnect) is not counted twice.
        assert.equal(await store.usage.record(report(run.id, 1, day0 + 1000)), undefined);
        assert.equal(await store.usage.record(report(run.id, 2, day0 + DAY + 5)), a.id);
        assert.equal(await store.usage.record(report(sbx.id, 1, day0 + 2000, 'gvisor')), b.id);
        // Work the store does not know bills nobody.
        assert.equal(await store.usage.record(report('run_unknown', 1, day0)), undefined);

        const window = { fromMs: day0, toMs: day0 + 2 * DAY };
        const byTenant = await store.usage.report({ ...window, group: 'tenant' });
        assert.deepEqual(byTenant.rows.map((r) => [r.key, r.cpuSeconds, r.egressBytes, r.sandboxes]).sort(), [
          [a.id, 3, 6_000_000_000, 1],
          [b.id, 1.5, 3_000_000_000, 1],
        ].sort());
        assert.deepEqual(byTenant.total, { cpuSeconds: 4.5, memoryGibSeconds: 0.75, sandboxSeconds: 30, egressBytes: 9_000_000_000, sandboxes: 2 });

        const byDay = await store.usage.report({ ...window, group: 'day', tenantId: a.id });
        assert.deepEqual(byDay.rows.map((r) => [r.key, r.cpuSeconds, r.sandboxes]), [
          [new Date(day0).toISOString().slice(0, 10), 1.5, 1],
          [new Date(day0 + DAY).toISOString().slice(0, 10), 1.5, 1],
        ]);
        assert.equal(byDay.total.sandboxes, 1);

        const byRuntime = await store.usage.report({ ...window, group: 'runtime' });
        assert.deepEqual(byRuntime.rows.map((r) => [r.key, r.sandboxSeconds]), [['container', 20], ['gvisor', 10]]);

        // The window's end is excluded; an empty window has zero rows for tenant and runtime, and zero days filled in.
        const first = await store.usage.report({ fromMs: day0, toMs: day0 + 1000, group: 'runtime' });
        assert.deepEqual(first.rows, []);
        assert.equal(first.total.sandboxes, 0);
        const empty = await store.usage.report({ fromMs: day0 - 3 * DAY, toMs: day0 - DAY, group: 'day' });
        assert.deepEqual(empty.rows.map((r) => r.cpuSeconds), [0, 0]);
      }));
  });
}
