/** Conformance: a server killed with runs in flight loses nothing once restarted. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { NODE, withStore, type BackendFixture } from './harness.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));

/** Starts the child, waits for `ready`, kills it with SIGKILL; returns the run ids it reported. */
async function runAndKill(args: object): Promise<string[]> {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const ready = new Promise<string[]>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^ready (.*)$/m.exec(out);
        if (m?.[1] !== undefined) resolve((JSON.parse(m[1]) as { submitted: string[] }).submitted);
      });
      child.on('exit', (code) => reject(new Error(`crash child exited early (${code}): ${err}`)));
    });
    return await ready;
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
}

/** Defines the crash test for a backend. */
export function crashSuite(fx: BackendFixture): void {
  describe('crash', () => {
    test('a server killed (SIGKILL) with runs queued, leased and running loses nothing after restart', () =>
      withStore(fx, async ({ store, clock, target }) => {
        const tenant = await store.tenants.create({ name: 't' });
        const node = await store.nodes.register({ name: 'n', ...NODE });
        const submitted = await runAndKill({
          ...target.options,
          tenantId: tenant.id,
          nodeId: node.id,
        });
        assert.equal(submitted.length, 10);
        // The restarted server: a fresh store on the same data, with time past every lease.
        clock.now = Date.now() + 3_600_000;
        const list = await store.runs.list(tenant.id, { limit: 100 });
        assert.deepEqual(list.items.map((r) => r.id).sort(), [...submitted].sort());
        const moved = await store.queue.requeueExpiredLeases();
        assert.equal(moved.length, 6);
        assert.ok(moved.every((m) => m.outcome === 'requeued'));
        clock.advance(60_000); // past the retry backoff of the six interrupted attempts
        const leases = await store.queue.leaseRuns(node.id, { max: 100, leaseMs: 1000 });
        assert.equal(leases.length, 10);
        for (const l of leases)
          assert.equal(
            await store.queue.completeAttempt(l.run.id, l.epoch, node.id, { exitCode: 0 }),
            true,
          );
        assert.equal(
          (await store.runs.list(tenant.id, { state: 'succeeded', limit: 100 })).items.length,
          10,
        );
      }));
  });
}
