/**
 * The structured log end to end (real runc): JSON lines, one per control-plane event, each with
 * the ids that matter — an agent's node, a run's tenant, run and node from placement to end, a
 * failed start's code — requests with their ids when asked for, and nothing below the level.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '@tartarus/server';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

/** A destination keeping every line pino writes. */
function memory(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

test('the structured log: control-plane events with their ids, requests when asked, the level honoured', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  const { lines, stream } = memory();
  await withEmbedded(
    async (h) => {
      const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
      const run = await A('POST', '/v1/runs?wait=true', { body: { template: 'busybox', command: 'exit 3' } });
      assert.equal(run.json.exitCode, 3, run.text);
      const runId = run.json.id as string;
      const bad = await A('POST', '/v1/runs?wait=true', { body: { image: '127.0.0.1:1/nothing:here', maxAttempts: 1 } });
      assert.equal(bad.json.state, 'dead', bad.text);
      const of = (msg: string, id: string): Record<string, unknown> | undefined => lines.find((l) => l.msg === msg && (l.runId === id || l.sandboxId === id));
      const finished = await eventually(async () => of('work finished', runId), 5000, 'the finished line');
      const placed = of('work placed', runId);
      const started = of('work started', runId);
      for (const l of [placed, started, finished]) {
        assert.ok(l, JSON.stringify(lines.filter((x) => x.runId === runId)));
        assert.equal(l.level, 30, 'info');
        assert.equal(typeof l.tenantId, 'string');
        assert.equal(typeof l.nodeId, 'string');
        assert.equal(l.service, 'tartarus-server');
        assert.match(String(l.time), /^\d{4}-\d\d-\d\dT/);
      }
      assert.equal(finished?.exitCode, 3);
      const failed = of('work failed', bad.json.id as string);
      assert.equal(failed?.level, 40, 'a failed start is a warning');
      assert.equal(typeof failed?.code, 'string');
      assert.ok(lines.some((l) => l.msg === 'agent connected' && typeof l.nodeId === 'string'));
      // Requests, with their request id.
      assert.ok(lines.some((l) => typeof l.reqId === 'string' && (l.req as { url?: string } | undefined)?.url === '/v1/runs?wait=true'));
      // Below the level: nothing.
      assert.ok(!lines.some((l) => typeof l.level === 'number' && l.level < 30));
    },
    { templateDir: testTemplateDir(), log: createLogger('info', stream), server: { logRequests: true } },
  );
});
