/**
 * Operating a deployment end to end (real runc, the embedded platform): its events stream (SDK
 * and raw SSE resumed with `Last-Event-ID`) tells it was applied, replicas started, turned healthy
 * and unhealthy, a dependency stopped holding, a replica ended; a dependency that turns unhealthy
 * is reported on the dependent service (API and `deployments get`) while its replica keeps
 * running; `exec` in a replica returns output and exit code (the CLI exits with it), and an
 * unknown service is a 404. Init steps: a `wait_tcp` on another service's name holds the main
 * process until that service listens; a `run` step that fails warns and goes on (`warn`) or ends
 * the replica, which `on_init_failure: fail` leaves down.
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

const INIT = `version: v1
deployment: init-demo
services:
  db:
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["sleep 3; exec httpd -f -p 5432"]
    endpoints:
      - { name: pg, protocol: tcp, port: 5432 }
    scale: { mode: fixed, replicas: 1 }
  api:
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["echo main at $(date +%s); while true; do sleep 1; done"]
    init:
      steps:
        - id: wait-db
          uses: init.wait_tcp
          with: { host: db, port: 5432 }
          timeout: 60s
        - id: optional
          uses: init.run
          with: { command: "exit 4" }
          retry: 1
          on_failure: warn
    scale: { mode: fixed, replicas: 1 }
  broken:
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["echo main ran; while true; do sleep 1; done"]
    init:
      steps:
        - id: migrate
          uses: init.run
          with: { command: "echo migrating; exit 4" }
    errors:
      on_init_failure: fail
    scale: { mode: fixed, replicas: 1 }
`;

test('deployment init steps: wait_tcp waits for another service by name, a run step fails per on_failure', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const client = new Tartarus({ url: h.url, apiKey: h.adminKey });
      const logsOf = async (runId: string) => ((await call(h.url, h.adminKey, 'GET', `/v1/runs/${runId}/logs`)).json.items as { data: string }[]).map((c) => c.data).join('');
      await client.deployments.apply(INIT, { file: 'init.yaml' });
      const api = await eventually(async () => {
        const [r] = await client.deployments.runs('init-demo', { service: 'api', live: true });
        return r !== undefined && /main at \d+/.test(await logsOf(r.runId)) ? r : undefined;
      }, 60_000, "api's main process started").catch(async (err: Error) => {
        const runs = await client.deployments.runs('init-demo');
        throw new Error(`${err.message}: ${JSON.stringify(runs)} ${await Promise.all(runs.map((r) => logsOf(r.runId)))}`);
      });
      const out = await logsOf(api.runId);
      assert.match(out, /init: wait-db done\n(.|\n)*init: optional failed, again \(1 of 1\)\n(.|\n)*init: warning: optional failed, going on \(on_failure: warn\)\n(.|\n)*main at /, out);
      // The main process started once db listened (3 s after its own start), not before.
      const [db] = await client.deployments.runs('init-demo', { service: 'db' });
      const dbRun = (await call(h.url, h.adminKey, 'GET', `/v1/runs/${db?.runId}`)).json;
      const mainAt = Number(/main at (\d+)/.exec(out)?.[1]) * 1000;
      assert.ok(mainAt >= Date.parse(dbRun.startedAt) + 2000, `main at ${mainAt}, db started ${dbRun.startedAt}`);

      // broken: its run step fails, on_failure fail ends the replica, on_init_failure fail keeps the service down.
      const broken = await eventually(async () => (await client.deployments.get('init-demo')).services.find((s) => s.name === 'broken' && s.failed), 30_000, 'broken failed');
      assert.equal(broken.live, 0);
      const runs = await client.deployments.runs('init-demo', { service: 'broken' });
      assert.equal(runs.length, 1, 'not restarted');
      assert.equal(runs[0]?.exitCode, 213);
      const text = await logsOf(runs[0]?.runId ?? '');
      assert.match(text, /migrating\ninit: migrate failed: the replica does not start \(on_failure: fail\)/);
      assert.doesNotMatch(text, /main ran/);

      // Init steps need the main command written out on an image: a 400 naming the field.
      const refused = await call(h.url, h.adminKey, 'POST', '/v1/deployments', { body: { file: 'x.yaml', spec: 'version: v1\ndeployment: xyz\nservices:\n  a:\n    image:\n      name: nginx:1\n    init:\n      steps:\n        - { id: s, uses: init.run, with: { command: "true" } }\n' } });
      assert.equal(refused.status, 400);
      assert.match(refused.json.error.message, /services\.a\.init: .*command\.entrypoint/);

      await client.deployments.stop('init-demo');
      await eventually(async () => ((await client.deployments.get('init-demo')).state === 'stopped' ? true : undefined), 30_000, 'stopped');
    },
    { templateDir: testTemplateDir() },
  );
});
