// The port proxies' tunnels on real sockets: a short exchange stays in JavaScript, bulk moves into
// tt-splice with every byte in order (what was read before the hand-off included), a half-close
// passes through, and no relay outlives its tunnel, `close()`, or the process that started it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SocketRelays } from './relay.js';
import { SPLICE_HELPER } from '../sandbox/native.js';
import { ensureNativeHelpers } from '../sandbox/native.js';

/** Pids of running tt-splice processes. */
function relayPids(): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith(SPLICE_HELPER)) pids.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return pids;
}

async function waitFor(what: string, cond: () => boolean): Promise<void> {
  for (const until = Date.now() + 30_000; !cond() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 25));
  assert.ok(cond(), what);
}

function listen(onSocket: (s: Socket) => void): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, onSocket);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function portOf(server: Server): number {
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

/** A proxy on loopback: each connection joined to a new connection to `target` through `relays`. */
async function proxyTo(relays: SocketRelays, target: number): Promise<{ server: Server; ended: Promise<unknown>[] }> {
  const ended: Promise<unknown>[] = [];
  const server = await listen((client) => {
    const up = connect({ host: '127.0.0.1', port: target, allowHalfOpen: true });
    up.once('connect', () => ended.push(relays.join(client, up)));
  });
  return { server, ended };
}

/** Sends `out` through a connection to `port`, half-closes, and collects everything that comes back. */
function exchange(port: number, out: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('end', () => resolve(Buffer.concat(got)));
    s.on('error', reject);
    s.end(out);
  });
}

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** An upstream that reads its peer's bytes to their end, then answers with the digest and `reply`. */
async function digestServer(reply: Buffer): Promise<Server> {
  return listen((s) => {
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('end', () => s.end(Buffer.concat([Buffer.from(`${digest(Buffer.concat(got))}\n`), reply])));
  });
}

test('a short exchange stays in JavaScript; a half-close passes through', async () => {
  const upstream = await digestServer(Buffer.from('pong'));
  const relays = new SocketRelays();
  const { server, ended } = await proxyTo(relays, portOf(upstream));
  try {
    const back = await exchange(portOf(server), Buffer.from('ping'));
    assert.equal(back.toString(), `${digest(Buffer.from('ping'))}\npong`);
    const [totals] = await Promise.all(ended);
    assert.deepEqual(totals, { aToB: 4, bToA: 65 + 4, spliced: false });
  } finally {
    server.close();
    upstream.close();
  }
});

test('bulk both ways moves into the kernel with every byte in order', async () => {
  await ensureNativeHelpers();
  const up = randomBytes(24 << 20);
  const down = randomBytes(40 << 20);
  const upstream = await digestServer(down);
  const relays = new SocketRelays({ handoffBytes: 256 << 10 });
  const { server, ended } = await proxyTo(relays, portOf(upstream));
  try {
    const back = await exchange(portOf(server), up);
    assert.equal(back.subarray(0, 65).toString(), `${digest(up)}\n`, 'the upstream got exactly what was sent, in order');
    assert.equal(digest(back.subarray(65)), digest(down), 'the client got exactly what the upstream sent, in order');
    const [totals] = await Promise.all(ended);
    assert.deepEqual(totals, { aToB: up.length, bToA: 65 + down.length, spliced: true });
    assert.equal(relays.size, 0);
    await waitFor('the relay exited with its tunnel', () => relayPids().length === 0);
  } finally {
    server.close();
    upstream.close();
  }
});

test('close() ends spliced tunnels: their relays are killed', async () => {
  await ensureNativeHelpers();
  // An upstream that streams until the connection goes.
  const upstream = await listen((s) => {
    const chunk = Buffer.alloc(1 << 20);
    const pump = (): void => {
      while (s.write(chunk));
    };
    s.on('drain', pump);
    s.on('error', () => s.destroy());
    pump();
  });
  const relays = new SocketRelays({ handoffBytes: 1 << 20 });
  const { server } = await proxyTo(relays, portOf(upstream));
  const client = connect({ host: '127.0.0.1', port: portOf(server) });
  client.on('error', () => undefined);
  let received = 0;
  client.on('data', (d: Buffer) => (received += d.length));
  try {
    await waitFor('the tunnel moved into a relay', () => received > 4 << 20 && relayPids().length === 1);
    relays.close();
    await waitFor('no relay left', () => relayPids().length === 0);
    await waitFor('the client saw the tunnel close', () => client.destroyed || client.readableEnded);
  } finally {
    client.destroy();
    server.close();
    upstream.close();
  }
});

test('a relay dies with the process that started it', async () => {
  await ensureNativeHelpers();
  // A proxy in its own process, killed with SIGKILL while a spliced download runs through it.
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const client = connect({ host: '127.0.0.1', port });
  client.on('error', () => undefined);
  let received = 0;
  client.on('data', (d: Buffer) => (received += d.length));
  try {
    await waitFor('the tunnel moved into a relay', () => received > 4 << 20 && relayPids().length === 1);
    child.kill('SIGKILL');
    await waitFor('no relay left after its proxy was killed', () => relayPids().length === 0);
    await waitFor('the client saw the tunnel close', () => client.destroyed || client.readableEnded);
  } finally {
    client.destroy();
    child.kill('SIGKILL');
  }
});

/** The killed proxy: an endless upstream and a relaying listener; prints the listener's port. */
const CHILD = `
import { createServer, connect } from 'node:net';
import { SocketRelays } from ${JSON.stringify(fileURLToPath(new URL('./relay.js', import.meta.url)))};
const upstream = createServer((s) => {
  const chunk = Buffer.alloc(1 << 20);
  const pump = () => { while (s.write(chunk)); };
  s.on('drain', pump);
  s.on('error', () => s.destroy());
  pump();
}).listen(0, '127.0.0.1', () => {
  const relays = new SocketRelays({ handoffBytes: 1 << 20 });
  const proxy = createServer((c) => {
    const up = connect({ host: '127.0.0.1', port: upstream.address().port });
    up.once('connect', () => relays.join(c, up));
  }).listen(0, '127.0.0.1', () => console.log(proxy.address().port));
});
`;
