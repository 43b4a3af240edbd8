/**
 * Distributed mode installed as docs/distributed.md says, on one machine: PostgreSQL and Redis
 * (real, started here), two replicas started as `tartarus server` processes (one configured by
 * TARTARUS_DATABASE, the other by --database), HAProxy with deploy/haproxy/haproxy.cfg (its global
 * section, listen address and the two example replicas' addresses replaced) in front, and a real
 * agent, `tartarus agent`, connected through HAProxy with a node token created through it. Through
 * HAProxy: /readyz, authenticated calls, exec (WebSocket) and followed logs (SSE); after the
 * replica holding the agent is SIGKILLed, the API still answers through the other and the agent
 * has moved there. Also: the systemd units of deploy/systemd pass `systemd-analyze verify`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from '@tartarus/runtime';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { Sandbox, Tartarus } from '@tartarus/sdk';
import { postgresUnavailable, startPostgres, type PostgresServer } from '@tartarus/server/testing/postgres';
import { redisUnavailable, startRedis, type RedisServer } from '@tartarus/server/testing/redis';
import { call, containerSkipReason, eventually } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'packages/cli/bin/tartarus.js');
/** How long a daemon may take to say it started, and to exit after SIGTERM, ms. */
const DAEMON_TIMEOUT_MS = 20_000;
/** The structured log line of a replica that the agent connected to it. */
const AGENT_CONNECTED = /"nodeId":"lb-node".*"msg":"agent connected"/;

/** A process started here, with its output kept for messages. */
interface Daemon {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in its output; rejects if it exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** `signal` (SIGTERM by default), SIGKILL if still there after the timeout; resolves once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Daemon {
  const proc = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let out = '';
  const exited = new Promise<void>((resolve) => proc.once('close', () => (live.delete(proc), resolve())));
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return {
    proc,
    output: () => out,
    waitFor: (pattern) =>
      eventually(async () => {
        const m = pattern.exec(out);
        if (m) return m;
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${args.join(' ')} exited: ${out}`);
        return undefined;
      }, DAEMON_TIMEOUT_MS, `${args.slice(0, 2).join(' ')} to print ${pattern} (so far: ${out})`),
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), DAEMON_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs the CLI to its end. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: DAEMON_TIMEOUT_MS });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A TCP port nothing listens on now. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/**
 * deploy/haproxy/haproxy.cfg for replicas at `replicas` (in place of the example's 10.0.0.11 and
 * 10.0.0.12), listening on loopback `port`, with a global section that needs no system set-up
 * (the shipped one chroots, drops to the haproxy user, logs to /dev/log and daemonizes).
 */
function renderHaproxyConfig(shipped: string, port: number, replicas: [string, string]): string {
  const out = shipped
    .replace(/^global\n(?:(?:[ \t]+.*)?\n)*/m, 'global\n    maxconn 512\n\n')
    .replace(/^(\s+)bind :7070$/m, `$1bind 127.0.0.1:${port}`)
    .replaceAll('10.0.0.11:7070', replicas[0])
    .replaceAll('10.0.0.12:7070', replicas[1]);
  assert.ok(!/^\s*(chroot|daemon|user|stats socket)\b/m.test(out) && !/^\s*server .*10\.0\.0\./m.test(out), out);
  return out;
}

function skipReason(): string | undefined {
  const haproxy = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (haproxy.status !== 0) return 'haproxy is not installed (apt-get install haproxy)';
  return postgresUnavailable() ?? redisUnavailable() ?? undefined;
}

test('HAProxy (deploy/) in front of two `tartarus server` replicas and a `tartarus agent`: one replica killed, the API still answers', async (t) => {
  const skip = skipReason() ?? (await containerSkipReason());
  if (skip) return t.skip(skip);
  const dir = await mkdtemp(join(tmpdir(), 'tt-e2e-lb-'));
  const stateDir = join(dir, 'node');
  let pg: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  const daemons: Daemon[] = [];
  let agent: Daemon | undefined;
  try {
    pg = await startPostgres();
    redis = await startRedis();
    const db = await pg.createDatabase('lb');
    const created = cli(['server', '--database', db, '--create-admin-key']);
    assert.equal(created.status, 0, created.stderr);
    const adminKey = created.stdout.trim();
    assert.match(adminKey, /^\S{20,}$/);

    const replicas = [
      start(process.execPath, [CLI, 'server', '--redis', redis.url, '--port', '0', '--log-level', 'info'], { TARTARUS_DATABASE: db }),
      start(process.execPath, [CLI, 'server', '--database', db, '--redis', redis.url, '--port', '0', '--log-level', 'info']),
    ];
    daemons.push(...replicas);
    const urls = await Promise.all(replicas.map(async (r) => (await r.waitFor(/listening on (http:\/\/\S+)/))[1] ?? ''));
    const [a, b] = urls as [string, string];

    const port = await freePort();
    const cfg = join(dir, 'haproxy.cfg');
    const shipped = await readFile(join(ROOT, 'deploy/haproxy/haproxy.cfg'), 'utf8');
    await writeFile(cfg, renderHaproxyConfig(shipped, port, [a.replace('http://', ''), b.replace('http://', '')]));
    const checked = spawnSync('haproxy', ['-c', '-f', cfg], { encoding: 'utf8' });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    const lb = `http://127.0.0.1:${port}`;
    const haproxy = start('haproxy', ['-db', '-f', cfg]);
    daemons.push(haproxy);
    const client = new Tartarus({ url: lb, apiKey: adminKey });

    // Replicas joined by Redis are ready without an agent: a new installation makes its node tokens through HAProxy.
    await eventually(async () => ((await call(lb, undefined, 'GET', '/readyz').catch(() => undefined))?.status === 200 ? true : undefined), 15_000, '/readyz 200 through HAProxy');
    const token = await client.nodes.tokens.create('lb-node');

    agent = start(process.execPath, [CLI, 'agent', '--server', lb, '--node-id', 'lb-node', '--state-dir', stateDir], {
      TARTARUS_AGENT_TOKEN: token.secret,
      TARTARUS_TEMPLATE_DIR: testTemplateDir(),
      TARTARUS_MAX_RECONNECT_DELAY_MS: '300',
      // No microVM test boot at start (seconds): this test runs containers only.
      TARTARUS_MICROVM_ACCEL: 'tcg',
    });
    await agent.waitFor(/connected to ws:\/\/127\.0\.0\.1:\d+\/v1\/agent\/connect/);
    assert.deepEqual((await client.nodes.list()).map((n) => [n.id, n.status]), [['lb-node', 'up']]);

    // Exec (a WebSocket) and a run's logs followed (SSE), through HAProxy.
    const sbx = await Sandbox.create({ url: lb, apiKey: adminKey, template: 'busybox', timeoutMs: 60_000 });
    let streamed = '';
    const r = await sbx.commands.run('echo out; exit 3', { onStdout: (d) => (streamed += d) });
    assert.deepEqual([r.exitCode, streamed], [3, 'out\n']);
    await sbx.kill();
    const run = await client.runs.submit({ argv: ['sh', '-c', 'echo one; sleep 0.2; echo two'], template: 'busybox' });
    let logs = '';
    for await (const e of client.runs.followLogs(run.id)) logs += e.data;
    assert.equal(logs, 'one\ntwo\n');

    // The replica holding the agent dies: GETs keep being answered (HAProxy sends them again, to the
    // other replica), and the agent reconnects, through HAProxy, to the other replica.
    const holder = replicas.findIndex((d) => AGENT_CONNECTED.test(d.output()));
    assert.ok(holder >= 0 && !AGENT_CONNECTED.test(replicas[1 - holder]?.output() ?? ''), 'one replica holds the agent');
    await replicas[holder]?.stop('SIGKILL');
    for (let i = 0; i < 10; i++) {
      const answers = await Promise.all([call(lb, adminKey, 'GET', '/v1/runs'), call(lb, undefined, 'GET', '/readyz')]);
      assert.deepEqual(answers.map((x) => x.status), [200, 200], answers.map((x) => x.text).join('\n'));
    }
    await replicas[1 - holder]?.waitFor(AGENT_CONNECTED);
    await eventually(async () => ((await client.nodes.list())[0]?.status === 'up' ? true : undefined), 30_000, 'the node up after the failover');
    const after = await client.runs.submit({ argv: ['echo', 'after the failover'], template: 'busybox' });
    const done = await eventually(async () => {
      const got = await client.runs.get(after.id, { output: true });
      return got.state === 'succeeded' ? got : undefined;
    }, 30_000, 'a run after the failover to finish');
    assert.equal(done.stdout, 'after the failover\n');
  } finally {
    // The agent first (its sandboxes outlive it by design: destroyed here), then the rest.
    await agent?.stop();
    const runtime = new Runtime({ stateDir, templateDir: testTemplateDir() });
    for (const s of await runtime.list().catch(() => [])) await runtime.destroy(s.runtime, s.id).catch(() => undefined);
    await runtime.cleanupOrphans().catch(() => undefined);
    await Promise.all(daemons.map((d) => d.stop()));
    await redis?.stop();
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the systemd units of deploy/systemd pass systemd-analyze verify', async (t) => {
  const found = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (found.status !== 0) return t.skip('systemd-analyze is not installed (Debian: systemd)');
  const dir = await mkdtemp(join(tmpdir(), 'tt-e2e-units-'));
  try {
    const units = ['tartarus-server.service', 'tartarus-agent.service'];
    for (const u of units) {
      // verify checks that ExecStart= is executable: the CLI of this checkout stands in for /usr/local/bin/tartarus.
      const text = (await readFile(join(ROOT, 'deploy/systemd', u), 'utf8')).replaceAll('/usr/local/bin/tartarus', CLI);
      await writeFile(join(dir, u), text);
    }
    const r = spawnSync('systemd-analyze', ['verify', ...units.map((u) => join(dir, u))], { encoding: 'utf8' });
    if (/Failed to (connect|initialize)|not been booted with systemd/i.test(r.stderr) && r.status !== 0) return t.skip(`systemd-analyze verify cannot run here: ${r.stderr.trim()}`);
    // It reports unknown keys and bad values as warnings, with exit status 0: none may name our units.
    const ours = r.stderr.split('\n').filter((l) => units.some((u) => l.includes(u)));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(ours, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
