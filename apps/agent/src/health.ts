/**
 * Health checks run by the node: a TCP connect or an HTTP GET from the node to the sandbox's own
 * address (its network namespace's; a sandbox without a network is checked from inside, with
 * busybox's `nc`/`wget`), or a command in the sandbox, healthy when it exits 0 — each within its
 * timeout. A failed check is data (`healthy: false` and why), never an error.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { SandboxHandle } from '@tartarus/runtime';

/** What to check. */
export type HealthCheck = { type: 'tcp'; port: number } | { type: 'http'; port: number; path: string; expectStatus: number } | { type: 'command'; command: string };

/** A check's outcome. */
export interface HealthResult {
  healthy: boolean;
  message: string;
}

function tcp(host: string, port: number, timeoutMs: number): Promise<HealthResult> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: timeoutMs });
    const done = (r: HealthResult) => {
      s.destroy();
      resolve(r);
    };
    s.once('connect', () => done({ healthy: true, message: `tcp ${port} accepts connections` }));
    s.once('timeout', () => done({ healthy: false, message: `tcp ${port}: no answer within ${timeoutMs} ms` }));
    s.once('error', (e: NodeJS.ErrnoException) => done({ healthy: false, message: `tcp ${port}: ${e.code ?? e.message}` }));
  });
}

function http(host: string, port: number, path: string, expect: number, timeoutMs: number): Promise<HealthResult> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      const ok = res.statusCode === expect;
      resolve({ healthy: ok, message: `GET ${path} on ${port}: ${res.statusCode ?? 0}${ok ? '' : ` (want ${expect})`}` });
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', (e: NodeJS.ErrnoException) => resolve({ healthy: false, message: `GET ${path} on ${port}: ${e.code ?? e.message}` }));
    req.end();
  });
}

async function inside(handle: SandboxHandle, argv: string[], what: string, timeoutMs: number): Promise<HealthResult> {
  try {
    const p = await handle.exec({ argv, timeoutMs });
    const r = await p.wait();
    const ok = r.exitCode === 0 && r.reason === 'exited';
    return { healthy: ok, message: `${what}: ${ok ? 'exit 0' : r.reason === 'timeout' ? `no answer within ${timeoutMs} ms` : `exit ${r.exitCode ?? r.reason}`}` };
  } catch (err) {
    return { healthy: false, message: `${what}: ${(err as Error).message}` };
  }
}

/** Runs one check of `handle`. */
export async function runHealthCheck(handle: SandboxHandle, check: HealthCheck, timeoutMs: number): Promise<HealthResult> {
  if (check.type === 'command') return inside(handle, ['sh', '-c', check.command], `command ${JSON.stringify(check.command)}`, timeoutMs);
  const address = await handle.address?.().catch(() => undefined);
  if (address === undefined) {
    // No network of its own: checked from inside the sandbox, on its loopback.
    const argv = check.type === 'tcp' ? ['nc', '-z', '127.0.0.1', String(check.port)] : ['wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${check.port}${check.path}`];
    return inside(handle, argv, `${check.type} ${check.port}`, timeoutMs);
  }
  return check.type === 'tcp' ? tcp(address, check.port, timeoutMs) : http(address, check.port, check.path, check.expectStatus, timeoutMs);
}
