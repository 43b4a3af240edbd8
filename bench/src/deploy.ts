/**
 * `npm run bench -- deploy`: how long a deployment takes to come up, and what the proxy costs.
 * On an embedded server in a temp data dir (real runc): a service of busybox httpd replicas with an
 * HTTP health check and a public endpoint is deployed with 1, 10 and 50 replicas; `healthyMs1`,
 * `healthyMs10`, `healthyMs50` are the times from the deploy call to every replica healthy
 * (checks every 1 s, so the figure includes up to a second of check interval). Then, with one
 * replica healthy, requests per second at concurrency 16 for 5 s, from a load generator in a
 * process of its own, through the endpoint's URL (`proxyRps`) and straight to the replica's
 * address on the bridge (`directRps`), interleaved over 3 rounds: `proxyRatio` = proxy ÷ direct
 * (1: the proxy costs nothing).
 *
 *   npm run bench -- deploy [--iterations N]   (N: rounds of the RPS comparison, default 3)
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '@tartarus/runtime';
import { Tartarus } from '@tartarus/sdk';
import { startEmbedded } from '@tartarus/server';
import type { BenchArgs } from './main.js';
import { checkStop, median, round } from './stats.js';

const SECONDS = 5;
const CONCURRENCY = 16;

const spec = (name: string, replicas: number): string => `version: v1
deployment: ${name}
services:
  web:
    rtype: service
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["mkdir -p /tmp/www && echo ok > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
    endpoints:
      - name: http
        protocol: http
        port: 80
        target_port: 8080
        expose: public
    health:
      start_grace: 0s
      interval: 1s
      timeout: 2s
      retries: 3
      check:
        type: http
        url: http://localhost:8080/
    scale:
      mode: fixed
      replicas: ${replicas}
`;

/** Deploys `replicas` replicas; ms from the deploy call until all are healthy. */
async function timeToHealthy(client: Tartarus, name: string, replicas: number): Promise<number> {
  const t0 = performance.now();
  await client.deployments.apply(spec(name, replicas), { file: `${name}.yaml` });
  for (;;) {
    checkStop();
    const d = await client.deployments.get(name);
    if (d.services.find((s) => s.name === 'web')?.healthy === replicas) return performance.now() - t0;
    if (performance.now() - t0 > 600_000) throw new Error(`${name}: ${replicas} replicas not healthy within 10 minutes`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops and removes a deployment, waiting for its replicas to go. */
async function remove(client: Tartarus, name: string): Promise<void> {
  await client.deployments.stop(name);
  while ((await client.deployments.get(name)).state !== 'stopped') await new Promise((r) => setTimeout(r, 200));
  await client.deployments.remove(name);
}

/** The load generator, run in a process of its own (so that it does not share the server's thread): GETs at a concurrency for some seconds, printing completed 200s per second. */
const LOAD = `
const { Agent, request } = require('node:http');
const [url, seconds, concurrency] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const end = performance.now() + seconds * 1000;
let done = 0;
const one = () => new Promise((resolve, reject) => {
  const req = request(url, { agent }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode === 200 ? (done++, resolve()) : reject(new Error(url + ': HTTP ' + res.statusCode))));
  });
  req.on('error', reject);
  req.end();
});
const t0 = performance.now();
Promise.all(Array.from({ length: concurrency }, async () => { while (performance.now() < end) await one(); }))
  .then(() => { console.log(done / ((performance.now() - t0) / 1000)); agent.destroy(); }, (e) => { console.error(e.message); process.exit(1); });
`;

/** GET requests to `url` at `CONCURRENCY` for `seconds` from another process; completed 200s per second. */
async function rps(url: string, seconds: number): Promise<number> {
  const out = await runCommand([process.execPath, '-e', LOAD, url, String(seconds), String(CONCURRENCY)], { timeoutMs: (seconds + 30) * 1000 });
  return Number(out.stdout.toString().trim());
}

/** A replica's address on the bridge (its network namespace is named after its sandbox). */
async function replicaAddress(client: Tartarus, name: string): Promise<string> {
  const [run] = await client.deployments.runs(name, { service: 'web', live: true });
  if (run === undefined) throw new Error(`${name}: no live replica`);
  const netns = (await readdir('/run/tartarus/netns')).find((n) => n.startsWith(`${run.runId}-`));
  if (netns === undefined) throw new Error(`no network namespace of ${run.runId}`);
  const out = await runCommand(['nsenter', `--net=/run/tartarus/netns/${netns}`, 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
  const m = /inet (\d+\.\d+\.\d+\.\d+)/.exec(out.stdout.toString());
  if (!m?.[1]) throw new Error(`no address for ${run.runId}: ${out.stdout.toString()}`);
  return m[1];
}

export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const rounds = args.iterations ?? 3;
  const dataDir = await mkdtemp(join(tmpdir(), 'tt-bench-deploy-'));
  const h = await startEmbedded({ dataDir, port: 0 });
  try {
    const client = new Tartarus({ url: h.url, apiKey: h.adminKey ?? '' });
    const figures: Record<string, number> = {};
    for (const n of [1, 10, 50]) {
      const ms = await timeToHealthy(client, `bench-${n}`, n);
      figures[`healthyMs${n}`] = round(ms, 0);
      console.error(`${n} replica(s) healthy in ${round(ms, 0)} ms`);
      await remove(client, `bench-${n}`);
    }
    await timeToHealthy(client, 'bench-proxy', 1);
    const url = (await client.deployments.get('bench-proxy')).endpoints.find((e) => e.name === 'http')?.url;
    if (!url) throw new Error('the deployment has no endpoint URL');
    const direct = `http://${await replicaAddress(client, 'bench-proxy')}:8080/`;
    const proxied: number[] = [];
    const straight: number[] = [];
    for (let i = 0; i < rounds; i++) {
      checkStop();
      proxied.push(await rps(url, SECONDS));
      straight.push(await rps(direct, SECONDS));
      console.error(`round ${i + 1}: proxy ${round(proxied[i] ?? 0, 0)}/s, direct ${round(straight[i] ?? 0, 0)}/s`);
    }
    await remove(client, 'bench-proxy');
    const proxyRps = median(proxied);
    const directRps = median(straight);
    return { ...figures, proxyRps: round(proxyRps, 0), directRps: round(directRps, 0), proxyRatio: round(proxyRps / directRps), rounds };
  } finally {
    await h.close({ destroySandboxes: true });
    await rm(dataDir, { recursive: true, force: true });
  }
}
