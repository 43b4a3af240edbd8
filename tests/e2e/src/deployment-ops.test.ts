/**
 * Operating a deployment end to end (real runc, the embedded platform): its events stream (SDK
 * and raw SSE resumed with `Last-Event-ID`) tells it was applied, replicas started, turned healthy
 * and unhealthy, a dependency stopped holding, a replica ended; a dependency that turns unhealthy
 * is reported on the dependent service (API and `deployments get`) while its replica keeps
 * running; `exec` in a replica returns output and exit code (the CLI exits with it), and an
 * unknown service is a 404.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Tartarus, type Event } from '@tartarus/sdk';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

/** The CLI's compiled entry (its bin script prefers a bundle that `tsc -b` does not refresh). */
const CLI_MAIN = new URL('../../../packages/cli/dist/main.js', import.meta.url).href;

const OPS = `version: v1
deployment: ops
services:
  db:
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["touch /tmp/ok; while true; do sleep 1; done"]
    health:
      start_grace: 1s
      interval: 1s
      timeout: 2s
      retries: 1
      check:
        type: command
        command: test -f /tmp/ok
    errors:
      on_panic: shutdown
    scale: { mode: fixed, replicas: 1 }
  api:
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["while true; do sleep 1; done"]
    depends:
      - service: db
        condition: healthy
    scale: { mode: fixed, replicas: 1 }
`;

/** Collects a deployment's events (from its start) in the background until `stop()`. */
function collect(client: Tartarus, name: string): { seen: Event[]; stop(): void } {
  const ac = new AbortController();
  const seen: Event[] = [];
  void (async () => {
    for await (const e of client.deployments.followEvents(name, { after: '0', signal: ac.signal })) seen.push(e);
  })();
  return { seen, stop: () => ac.abort() };
}

/** Runs the real CLI against the server (not synchronously: the server runs in this process). */
function cli(h: { url: string; adminKey: string }, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const run = `const { main } = await import(${JSON.stringify(CLI_MAIN)}); process.exitCode = await main(['node', 'tartarus', ...process.argv.slice(1)]);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', run, ...args], { env: { ...process.env, TARTARUS_URL: h.url, TARTARUS_API_KEY: h.adminKey }, timeout: 30_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

test('deployment ops: events (resumable), an unhealthy dependency reported, exec', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const client = new Tartarus({ url: h.url, apiKey: h.adminKey });
      await client.deployments.apply(OPS, { file: 'ops.yaml' });
      const events = collect(client, 'ops');
      const kinds = () => events.seen.map((e) => `${e.type} ${String(e.data.service ?? '')} ${String(e.data.health ?? e.data.met ?? '')}`.trim());
      const apiRunning = await eventually(async () => (await client.deployments.runs('ops', { service: 'api', live: true })).find((r) => r.state === 'running'), 40_000, 'api running');
      await eventually(async () => (kinds().includes('deployment.replica.started api') ? true : undefined), 10_000, 'api started told');
      assert.equal(kinds()[0], 'deployment.applied');
      assert.equal(events.seen[0]?.data.revision, 1);
      const order = ['deployment.dependency api false', 'deployment.replica.started db', 'deployment.replica.health db healthy', 'deployment.dependency api true', 'deployment.replica.started api'];
      assert.deepEqual(kinds().filter((k) => order.includes(k)), order, kinds().join('; '));
      assert.deepEqual((await client.deployments.get('ops')).services.find((s) => s.name === 'api')?.dependencies, [{ service: 'db', condition: 'healthy', met: true }]);

      // exec: output and exit code; the CLI exits with it; an unknown service is a 404.
      const r = await client.deployments.exec('ops', 'api', ['sh', '-c', 'echo out; echo err >&2; exit 7']);
      assert.deepEqual([r.stdout, r.stderr, r.exitCode, r.reason], ['out\n', 'err\n', 7, 'exited']);
      const byCli = await cli(h, ['exec', 'ops', 'api', '--replica', apiRunning.runId, '--', 'sh', '-c', 'echo from cli; exit 3']);
      assert.deepEqual([byCli.status, byCli.stdout], [3, 'from cli\n'], byCli.stderr);
      const unknown = await call(h.url, h.adminKey, 'POST', '/v1/deployments/ops/services/nosuch/exec', { body: { argv: ['true'] } });
      assert.equal(unknown.status, 404);
      assert.match(unknown.json.error.message, /no service nosuch/);
      const noCli = await cli(h, ['exec', 'ops', 'nosuch', '--', 'true']);
      assert.notEqual(noCli.status, 0);
      assert.match(noCli.stderr, /no service nosuch/);

      // db turns unhealthy (its check file removed through exec) and, by on_panic shutdown, stays
      // down: api's dependency is reported unmet, api's replica keeps running.
      assert.equal((await client.deployments.exec('ops', 'db', 'rm /tmp/ok')).exitCode, 0);
      const degraded = await eventually(async () => {
        const api = (await client.deployments.get('ops')).services.find((s) => s.name === 'api');
        return api?.dependencies[0]?.met === false ? api : undefined;
      }, 20_000, 'the unmet dependency reported');
      assert.equal(degraded.running, 1, 'the dependent replica keeps running');
      assert.equal((await client.deployments.runs('ops', { service: 'api', live: true }))[0]?.runId, apiRunning.runId);
      await eventually(async () => (kinds().includes('deployment.replica.ended db') && kinds().filter((k) => k === 'deployment.dependency api false').length === 2 ? true : undefined), 20_000, 'db ended and the unmet dependency told');
      // After db turned unhealthy: its end and api's unmet dependency, in either order (one controller pass or two).
      const tail = kinds().slice(kinds().indexOf('deployment.replica.health db unhealthy'));
      assert.deepEqual(tail.slice(1).sort(), ['deployment.dependency api false', 'deployment.replica.ended db'], kinds().join('; '));
      const shown = await cli(h, ['deployments', 'get', 'ops']);
      assert.match(shown.stdout, /db healthy \(not met\)/);
      assert.match(shown.stdout, /api: dependency db not healthy \(its replicas keep running\)/);
      events.stop();

      // The events page, and a raw stream resumed after an id gives exactly what came after.
      const page = await client.deployments.events('ops');
      assert.deepEqual(page.items.map((e) => e.id), events.seen.map((e) => e.id));
      assert.ok(page.items.every((e) => e.type.startsWith('deployment.') && e.data.deployment === 'ops'));
      const resumeAt = page.items[2]?.id ?? '';
      const ac = new AbortController();
      const res = await fetch(`${h.url}/v1/deployments/ops/events`, { headers: { authorization: `Bearer ${h.adminKey}`, accept: 'text/event-stream', 'last-event-id': resumeAt }, signal: ac.signal });
      let text = '';
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        if (text.split('\n\n').filter((b) => b.startsWith('id: ')).length >= 3) break;
      }
      ac.abort();
      const ids = text.split('\n\n').filter((b) => b.startsWith('id: ')).map((b) => b.split('\n')[0]);
      assert.deepEqual(ids.slice(0, 3), [`id: ${resumeAt}`, `id: ${page.items[3]?.id}`, `id: ${page.items[4]?.id}`]);
      // The bus sees them too.
      assert.ok((await client.events.list({ object: (await client.deployments.get('ops')).id })).items.length >= page.items.length);

      await client.deployments.stop('ops');
      await eventually(async () => ((await client.deployments.get('ops')).state === 'stopped' ? true : undefined), 30_000, 'stopped');
      const last = (await client.deployments.events('ops')).items.at(-1);
      assert.equal(last?.type, 'deployment.stopped');
      await client.deployments.remove('ops');
    },
    { templateDir: testTemplateDir() },
  );
});
