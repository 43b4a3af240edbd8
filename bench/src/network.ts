/**
 * Benchmark `network`: what a sandbox's network costs and what the port proxy gives.
 *
 * 1. Start with and without a network (`Runtime.createSandbox` + `start()` of `sleep`, container
 *    driver, busybox): egress `all` (own namespace, veth on the bridge, address, nftables chain)
 *    against `none` (loopback only), interleaved ABBA. `netStartRatio` = median with ÷ median
 *    without (target ≤ 1.15). Teardown is outside the timing. Starts are cheap and their spread is
 *    wide (±8 % between runs of 30), so they get twice the iterations.
 * 2. The port proxy: an HTTP server in a sandbox (python's http.server) serving a 64 MiB file and a
 *    tiny one; downloaded through the embedded server's proxy with the API key — host-based
 *    (`PORT-ID.<domain>`, the URL `getHost` gives when the server has a domain) and path-based —
 *    and straight from the host to the sandbox's address, interleaved. `proxyThroughputRatio` =
 *    host-based MiB/s ÷ direct MiB/s (target ≥ 0.7), `pathProxyThroughputRatio` likewise;
 *    `proxyLatencyMs` / `directLatencyMs` for the tiny GET (host-based). The client
 *    is curl in its own process for both (the embedded platform, its agent's node proxy included,
 *    runs in this one).
 *
 *   npm run bench -- network [--iterations N]     (default N = 30: 60 starts, 30 downloads each way, 90 tiny GETs)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTemplateDir, runCommand, Runtime } from '@tartarus/runtime';
import { Tartarus } from '@tartarus/sdk';
import { startEmbedded } from '@tartarus/server';
import type { BenchArgs } from './main.js';
import { checkStop, median, round, timeMs } from './stats.js';

const WARMUP = 3;
const DOMAIN = 'sandboxes.bench';
const BIG_MIB = 64;

/**
 * GETs `url` with curl (its own process, so that the client never competes with the proxy for
 * this process's event loop) and discards the body; resolves to its byte count.
 */
async function download(url: string, headers: Record<string, string> = {}): Promise<number> {
  const argv = ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url];
  const r = await runCommand(argv, { timeoutMs: 120_000, allowNonZero: true });
  const [code, size] = r.stdout.trim().split(' ');
  if (r.exitCode !== 0 || code !== '200') throw new Error(`GET ${url}: ${code ?? ''} ${r.stderr.trim()}`);
  return Number(size);
}

async function startCost(iterations: number): Promise<{ withMs: number; withoutMs: number }> {
  const stateDir = await mkdtemp(join(tmpdir(), 'tartarus-bench-state-'));
  const runtime = new Runtime({ stateDir });
  const withNet: number[] = [];
  const without: number[] = [];
  try {
    await runtime.templates.ensure('busybox');
    for (let i = 0; i < WARMUP + iterations; i++) {
      checkStop();
      // ABBA: each variant goes first every other round, so that neither always follows the
      // other's teardown (a network namespace's is finished by the kernel after it returns).
      const order = [['all', withNet], ['none', without]] as const;
      for (const [egress, out] of i % 2 === 0 ? order : [...order].reverse()) {
        let sandbox: Awaited<ReturnType<Runtime['createSandbox']>> | undefined;
        const ms = await timeMs(async () => {
          sandbox = await runtime.createSandbox({ template: 'busybox', runtime: 'container', command: ['sleep', '600'], egress });
          await sandbox.start();
        });
        await sandbox?.destroy();
        if (i >= WARMUP) out.push(ms);
      }
    }
  } finally {
    await runtime.close();
    await runtime.cleanupOrphans().catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
  return { withMs: median(withNet), withoutMs: median(without) };
}

async function proxyCost(downloads: number, gets: number): Promise<Record<string, number>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tartarus-bench-net-'));
  const server = await startEmbedded({ dataDir, port: 0, templateDir: defaultTemplateDir(), server: { proxyDomain: DOMAIN } });
  try {
    const key = server.adminKey ?? '';
    const client = new Tartarus({ url: server.url, apiKey: key });
    const sandbox = await client.sandboxes.create({ template: 'python', egress: 'all', limits: { memoryMiB: 1024, diskMiB: 512 } });
    const prep = await sandbox.commands.run(`mkdir -p /tmp/www && head -c ${BIG_MIB * 1048576} /dev/urandom > /tmp/www/big && echo ok > /tmp/www/tiny && cd /tmp/www && (setsid python3 -m http.server 8000 >/dev/null 2>&1 &)`);
    if (prep.exitCode !== 0) throw new Error(`preparing the sandbox: ${prep.stderr}`);
    const auth = { authorization: `Bearer ${key}` };
    const proxied = `${server.url}/v1/sandboxes/${sandbox.id}/ports/8000`;
    // Host-based, as a wildcard DNS name would give it (the Host header names port and sandbox).
    const byHost = { ...auth, host: `8000-${sandbox.id.replace('_', '-')}.${DOMAIN}` };
    // The sandbox's own address, as the host reaches it on the bridge.
    const addr = await sandbox.commands.run(`python3 -c "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(('192.0.2.1', 9)); print(s.getsockname()[0])"`);
    const direct = `http://${addr.stdout.trim()}:8000`;
    for (let i = 0; i < 100; i++) {
      if (await download(`${direct}/tiny`).then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const proxiedMs: number[] = [];
    const pathMs: number[] = [];
    const directMs: number[] = [];
    for (let i = 0; i < 1 + downloads; i++) {
      checkStop();
      const a = await timeMs(() => download(`${server.url}/big`, byHost));
      const p = await timeMs(() => download(`${proxied}/big`, auth));
      const b = await timeMs(() => download(`${direct}/big`));
      if (i >= 1) {
        proxiedMs.push(a);
        pathMs.push(p);
        directMs.push(b);
      }
    }
    const proxiedTiny: number[] = [];
    const directTiny: number[] = [];
    for (let i = 0; i < WARMUP + gets; i++) {
      checkStop();
      const a = await timeMs(() => download(`${server.url}/tiny`, byHost));
      const b = await timeMs(() => download(`${direct}/tiny`));
      if (i >= WARMUP) {
        proxiedTiny.push(a);
        directTiny.push(b);
      }
    }
    await sandbox.kill();
    const mibs = (ms: number): number => BIG_MIB / (ms / 1000);
    return {
      proxiedMiBps: mibs(median(proxiedMs)),
      pathProxiedMiBps: mibs(median(pathMs)),
      directMiBps: mibs(median(directMs)),
      proxyLatencyMs: median(proxiedTiny),
      directLatencyMs: median(directTiny),
    };
  } finally {
    await server.close({ destroySandboxes: true });
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Runs the benchmark; see the file header. */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const iterations = args.iterations ?? 30;
  const start = await startCost(iterations * 2);
  console.error(`start: with a network ${round(start.withMs, 1)} ms, without ${round(start.withoutMs, 1)} ms`);
  const proxy = await proxyCost(iterations, iterations * 3);
  console.error(
    `64 MiB: proxied ${round(proxy.proxiedMiBps ?? 0, 0)} MiB/s, direct ${round(proxy.directMiBps ?? 0, 0)} MiB/s; tiny GET: proxied ${round(proxy.proxyLatencyMs ?? 0, 2)} ms, direct ${round(proxy.directLatencyMs ?? 0, 2)} ms`,
  );
  return {
    iterations,
    startWithNetworkMs: round(start.withMs, 1),
    startWithoutNetworkMs: round(start.withoutMs, 1),
    netStartRatio: round(start.withMs / start.withoutMs),
    proxiedMiBps: round(proxy.proxiedMiBps ?? 0, 0),
    directMiBps: round(proxy.directMiBps ?? 0, 0),
    proxyThroughputRatio: round((proxy.proxiedMiBps ?? 0) / (proxy.directMiBps ?? 1)),
    pathProxiedMiBps: round(proxy.pathProxiedMiBps ?? 0, 0),
    pathProxyThroughputRatio: round((proxy.pathProxiedMiBps ?? 0) / (proxy.directMiBps ?? 1)),
    proxyLatencyMs: round(proxy.proxyLatencyMs ?? 0, 2),
    directLatencyMs: round(proxy.directLatencyMs ?? 0, 2),
    targets: { netStartRatio: 1.15, proxyThroughputRatio: 0.7 },
  };
}
