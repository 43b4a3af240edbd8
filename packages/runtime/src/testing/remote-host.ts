/**
 * A "remote host" for network tests: a network namespace the test makes, reached from the host
 * through a veth pair (198.18.0.0/29, the benchmarking range, never routed anywhere else), with
 * HTTP servers on 8080 and 8081 answering `remote <port>` on two addresses (198.18.0.2 and .3)
 * and on 169.254.169.254 (a stand-in for a cloud metadata service, routed there by the host).
 * Sandboxes reach it only through the sandbox network's NAT; nothing leaves the machine.
 * A DNS server for tests (dnsmasq on loopback) answers `remote.test` with 198.18.0.2.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { get } from 'node:http';
import { Resolver } from 'node:dns/promises';
import { runCommand } from '../process/run.js';

export const REMOTE_ADDRESS = '198.18.0.2';
export const REMOTE_OTHER_ADDRESS = '198.18.0.3';
export const METADATA_ADDRESS = '169.254.169.254';
export const REMOTE_NAME = 'remote.test';

const SERVER = `
const http = require('node:http');
for (const port of [8080, 8081]) http.createServer((q, r) => r.end('remote ' + port)).listen(port, '0.0.0.0');
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
`;

/** A running remote host; `close()` removes it. */
export interface RemoteHost {
  netns: string;
  close(): Promise<void>;
}

async function sh(argv: string[]): Promise<void> {
  await runCommand(argv, { timeoutMs: 15_000 });
}

/** Makes the remote host and waits until its servers answer. */
export async function startRemoteHost(): Promise<RemoteHost> {
  const tag = randomBytes(3).toString('hex');
  const netns = `tt-remote-${tag}`;
  const veth = `ttr${tag}`;
  await sh(['ip', 'netns', 'add', netns]);
  let server: ChildProcess | undefined;
  const close = async (): Promise<void> => {
    server?.stdin?.end();
    server?.kill('SIGKILL');
    await runCommand(['ip', 'route', 'del', `${METADATA_ADDRESS}/32`], { allowNonZero: true });
    await runCommand(['ip', 'link', 'del', veth], { allowNonZero: true });
    await runCommand(['ip', 'netns', 'del', netns], { allowNonZero: true });
  };
  try {
    await sh(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await sh(['ip', 'addr', 'add', '198.18.0.1/29', 'dev', veth]);
    await sh(['ip', 'link', 'set', veth, 'up']);
    for (const a of [`${REMOTE_ADDRESS}/29`, `${REMOTE_OTHER_ADDRESS}/29`, `${METADATA_ADDRESS}/32`]) await sh(['ip', '-n', netns, 'addr', 'add', a, 'dev', 'eth0']);
    await sh(['ip', '-n', netns, 'link', 'set', 'eth0', 'up']);
    await sh(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
    await sh(['ip', 'route', 'add', `${METADATA_ADDRESS}/32`, 'via', REMOTE_ADDRESS]);
    server = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', SERVER], { stdio: ['pipe', 'ignore', 'inherit'] });
    for (let i = 0; i < 100; i++) {
      if ((await httpGet(`http://${REMOTE_ADDRESS}:8080/`)) === 'remote 8080') return { netns, close };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the remote host test servers did not answer');
  } catch (err) {
    await close();
    throw err;
  }
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/**
 * dnsmasq on 127.0.0.1:`port` (default a free one) answering `remote.test` with `address`
 * (default REMOTE_ADDRESS), and nothing else: no upstream.
 */
export async function startTestDns(options: { port?: number; address?: string } = {}): Promise<{ upstream: string; close(): Promise<void> }> {
  const port = options.port ?? (await freePort());
  const address = options.address ?? REMOTE_ADDRESS;
  const child = spawn(
    'dnsmasq',
    ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--bind-interfaces', '--listen-address=127.0.0.1', `--port=${port}`, `--address=/${REMOTE_NAME}/${address}`, '--pid-file=', '--user=root'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  for (let i = 0; ; i++) {
    const found = await resolver.resolve4(REMOTE_NAME).catch(() => []);
    if (found[0] === address) break;
    if (child.exitCode !== null || i === 100) {
      child.kill('SIGKILL');
      throw new Error(`dnsmasq did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // Closed once it has exited: its port is free again for another.
  const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  return {
    upstream: `127.0.0.1:${port}`,
    close: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The body of a GET, or undefined when it fails within 1 s. */
export function httpGet(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}
