// `tartarus server` and `tartarus agent` that need no root: the agent's server address, bad input
// (one line, exit 2), an admin key for a fresh database, and a replica that serves and stops on
// SIGTERM. tests/e2e load-balancer.test.ts runs both daemons for real behind HAProxy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentConnectUrl } from './commands/daemons/agent.js';
import { BIN, cli } from './cli-test-helpers.js';

test("agent: the servers' http(s):// address becomes the agent endpoint ws(s)://…/v1/agent/connect", () => {
  const cases: [string, string][] = [
    ['http://10.0.0.10:7070', 'ws://10.0.0.10:7070/v1/agent/connect'],
    ['https://tartarus.example.com', 'wss://tartarus.example.com/v1/agent/connect'],
    ['https://example.com/tartarus/', 'wss://example.com/tartarus/v1/agent/connect'],
    ['ws://127.0.0.1:7070/v1/agent/connect', 'ws://127.0.0.1:7070/v1/agent/connect'],
    ['wss://lb.internal', 'wss://lb.internal/v1/agent/connect'],
  ];
  for (const [given, want] of cases) assert.equal(agentConnectUrl(given), want, given);
  assert.throws(() => agentConnectUrl('lb.internal'), /--server "lb.internal" is not a URL/);
  assert.throws(() => agentConnectUrl('ftp://lb.internal'), /must start with http:\/\/, https:\/\/, ws:\/\/ or wss:\/\//);
});

test('bad input is one line and exit 2', async () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['agent'], {}, /^error: --server is required \(or TARTARUS_SERVER_URL\)/],
    [['agent', '--server', 'http://127.0.0.1:1'], {}, /^error: --token is required \(or TARTARUS_AGENT_TOKEN\): make one with `tartarus nodes token create NODE_ID`/],
    [['agent', '--token', 'x'.repeat(20)], { TARTARUS_SERVER_URL: 'tartarus.internal' }, /^error: --server "tartarus.internal" is not a URL/],
    [['server'], {}, /^tartarus-server: --database \(or TARTARUS_DATABASE\) is required/],
    [['server', '--database', '/nonexistent/x.db', '--no-such-flag'], {}, /no-such-flag/],
    [['server', '--database', '/nonexistent/x.db', '--port', 'many'], {}, /--port must be a number, got "many"/],
  ];
  for (const [args, env, want] of cases) {
    const r = await cli(args, env);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('server --create-admin-key makes a new admin key each time; a replica serves with it and stops on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tartarus-cli-daemons-'));
  try {
    const db = join(dir, 'store.db');
    const keys = [await cli(['server', '--database', db, '--create-admin-key']), await cli(['server', '--create-admin-key'], { TARTARUS_DATABASE: db })];
    for (const k of keys) assert.equal(k.status, 0, k.stderr);
    const [first, second] = keys.map((k) => k.stdout.trim());
    assert.ok(first && second && first !== second, `two different keys: ${first} ${second}`);
    assert.match(keys[0]?.stderr ?? '', /admin API key/);

    const replica = spawn(process.execPath, [BIN, 'server', '--database', db, '--port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => replica.once('close', resolve));
    try {
      let err = '';
      const url = await new Promise<string>((resolve, reject) => {
        replica.stderr.on('data', (c: Buffer) => {
          err += c.toString();
          const m = /listening on (http:\/\/\S+)/.exec(err);
          if (m?.[1]) resolve(m[1]);
        });
        void exited.then(() => reject(new Error(`the replica exited: ${err}`)));
      });
      for (const key of [first, second]) {
        const res = await fetch(`${url}/v1/nodes`, { headers: { authorization: `Bearer ${key}` } });
        assert.equal(res.status, 200, await res.text());
      }
    } finally {
      replica.kill('SIGTERM');
    }
    assert.equal(await exited, 0, 'SIGTERM stops the replica cleanly');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
