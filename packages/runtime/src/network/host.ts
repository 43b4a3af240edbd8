/**
 * The node's side of the sandbox network, made on first use and shared by every Runtime on the
 * machine: the bridge (holding the gateway address), IPv4 forwarding, and the base nftables rules
 * (rules.ts). `ensureHostNetwork` is cheap once done (two stats), so each attach calls it: a
 * bridge someone removed is made again. `removeHostNetwork` takes it all down when no sandbox of
 * the machine holds an address any more. Each Runtime using it holds a lease (a file named by
 * its pid): after a crash, `collectHostNetwork` (orphan collection) takes it down once no live
 * process holds one and no sandbox has a network.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ownersDir } from '../gc/owners.js';
import { runCommand } from '../process/run.js';
import { acquireLock, isAlive } from '../templates/lock.js';
import { networkConfig, type NetworkConfig } from './config.js';
import { linkExists } from './links.js';
import { baseRules, DENIED_PORTS_RULE, DENIED_PORTS_SET, denyElements, removeBaseRules, TABLE } from './rules.js';

/** Timeout of one `ip`/`nft` call, ms. */
export const NET_TOOL_TIMEOUT_MS = 15_000;

/** Machine-wide network state: `/run/tartarus/net` (addresses, records, the base marker). */
export function netRunDir(): string {
  return join(dirname(ownersDir()), 'net');
}

function marker(): string {
  return join(netRunDir(), 'base');
}

/** The bridge the host network was made with, for a collector that has no configuration. */
function bridgeRecord(): string {
  return join(netRunDir(), 'bridge');
}

/** Leases of the processes using the host network: `<pid>.<n>`, one per Runtime. */
function leasesDir(): string {
  return join(netRunDir(), 'users');
}

/** The resolv.conf bind-mounted into every networked sandbox (the gateway is its resolver). */
export function resolvConfPath(): string {
  return join(netRunDir(), 'resolv.conf');
}

/** Runs `ip -batch -` (or another tool) with a script on stdin; throws with its stderr. */
export async function netTool(argv: string[], script: string): Promise<void> {
  const res = await runCommand(argv, { stdin: script, allowNonZero: true, timeoutMs: NET_TOOL_TIMEOUT_MS });
  if (res.exitCode !== 0) throw new Error(`${argv.join(' ')} failed: ${res.stderr.trim().split('\n').slice(-2).join('; ')}`);
}

const versions = new Map<string, string>();

/** The base rules' version (hashed once per distinct script: this is on every create's path). */
function rulesVersion(rules: string): string {
  let v = versions.get(rules);
  if (v === undefined) {
    v = createHash('sha256').update(rules).digest('hex').slice(0, 16);
    versions.set(rules, v);
  }
  return v;
}

/** Makes the bridge, forwarding and base rules unless they are there; adds this configuration's deny list when they were. */
export async function ensureHostNetwork(cfg: NetworkConfig): Promise<void> {
  const rules = baseRules(cfg);
  // The marker names the base rules it stands for: rules made by an older version (a set or rule
  // missing) are applied again (they are idempotent), live sandboxes' chains and elements kept.
  const version = rulesVersion(rules);
  const [bridge, base] = await Promise.all([linkExists(cfg.bridge), readFile(marker(), 'utf8').catch(() => undefined)]);
  if (bridge && base === version) return ensureDenied(cfg);
  await mkdir(netRunDir(), { recursive: true, mode: 0o755 });
  if (!bridge) await makeBridge(cfg);
  await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
  await netTool(['nft', '-f', '-'], rules);
  await writeFile(resolvConfPath(), `nameserver ${cfg.gateway}\noptions ndots:0\n`, { mode: 0o644 });
  await writeFile(bridgeRecord(), cfg.bridge);
  await writeFile(marker(), version);
  if (base !== undefined) await ensureDenied(cfg);
}

/** Deny lists this process put in place, with the stamp (inode, mtime) of the base rules' marker then: rules made again are checked again. */
const denied = new Map<string, string>();

/**
 * The configured deny list in the sets whoever made them (another Runtime of the machine, or this
 * node's agent before a restart with another control plane), once per making of the base rules:
 * the set and its rule first (base rules from before them lack both), then the elements in one
 * call, or, when one is inside an element already there, each on its own.
 */
async function ensureDenied(cfg: NetworkConfig): Promise<void> {
  const script = denyElements(cfg);
  if (script === '') return;
  const st = await stat(marker()).catch(() => undefined);
  const stamp = st ? `${st.ino}:${st.mtimeMs}` : '';
  if (stamp !== '' && denied.get(script) === stamp) return;
  await netTool(['nft', '-f', '-'], `${DENIED_PORTS_SET}\n`);
  const chain = await runCommand(['nft', 'list', 'chain', 'inet', TABLE, 'from_sandbox'], { allowNonZero: true, timeoutMs: NET_TOOL_TIMEOUT_MS });
  if (!chain.stdout.includes('@denied_ports')) await netTool(['nft', '-f', '-'], `insert rule inet ${TABLE} ${DENIED_PORTS_RULE}\n`);
  const all = await runCommand(['nft', '-f', '-'], { stdin: script, allowNonZero: true, timeoutMs: NET_TOOL_TIMEOUT_MS });
  if (all.exitCode !== 0) {
    for (const line of script.trim().split('\n')) await runCommand(['nft', '-f', '-'], { stdin: `${line}\n`, allowNonZero: true, timeoutMs: NET_TOOL_TIMEOUT_MS });
  }
  denied.set(script, stamp);
}

/**
 * The bridge's MAC address: fixed (locally administered, from its name). A bridge whose address
 * was never set takes the lowest of its ports' and changes it as sandboxes come and go; each
 * running sandbox's ARP entry for its gateway then points at an address the host no longer
 * answers to, and it reaches nothing until that entry expires (seconds).
 */
export function bridgeMac(bridge: string): string {
  const h = createHash('sha256').update(`tartarus bridge ${bridge}`).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

async function makeBridge(cfg: NetworkConfig): Promise<void> {
  const script = [`link add ${cfg.bridge} address ${bridgeMac(cfg.bridge)} type bridge`, `addr add ${cfg.gateway}/${cfg.prefix} dev ${cfg.bridge}`, `link set ${cfg.bridge} up`].join('\n');
  try {
    await netTool(['ip', '-batch', '-'], `${script}\n`);
  } catch (err) {
    // Another Runtime on the machine made it at the same moment.
    if (!(await linkExists(cfg.bridge))) throw err;
  }
  // No IPv6 on the bridge: sandboxes have IPv4 only, and nothing may slip past the IPv4 rules.
  await writeFile(`/proc/sys/net/ipv6/conf/${cfg.bridge}/disable_ipv6`, '1').catch(() => undefined);
}

/** Takes the bridge and both tables down (call only when no sandbox holds an address). */
export async function removeHostNetwork(cfg: Pick<NetworkConfig, 'bridge'>): Promise<void> {
  await rm(marker(), { force: true });
  await runCommand(['nft', '-f', '-'], { stdin: removeBaseRules(), allowNonZero: true, timeoutMs: NET_TOOL_TIMEOUT_MS });
  if (cfg.bridge !== '' && (await linkExists(cfg.bridge))) {
    await runCommand(['ip', 'link', 'del', cfg.bridge], { allowNonZero: true, timeoutMs: NET_TOOL_TIMEOUT_MS });
  }
  await rm(resolvConfPath(), { force: true });
  await rm(bridgeRecord(), { force: true });
}

let leases = 0;

/**
 * Held while a lease is written and while a collector decides and takes the network down: a
 * lease written after a teardown is followed by its Runtime's `ensureHostNetwork`, which makes the
 * network again; one written before it stops the teardown.
 */
async function leasesLock(): Promise<() => Promise<void>> {
  await mkdir(leasesDir(), { recursive: true, mode: 0o755 });
  return acquireLock(join(netRunDir(), 'users.lock'), { pollMs: 20 });
}

/** Records that this process uses the host network; the returned function ends the lease. */
export async function leaseHostNetwork(): Promise<() => Promise<void>> {
  const path = join(leasesDir(), `${process.pid}.${++leases}`);
  const release = await leasesLock();
  try {
    await writeFile(path, '');
  } finally {
    await release();
  }
  return () => rm(path, { force: true });
}

/**
 * Takes the host network (bridge, tables) down when no live process holds a lease on it and no
 * sandbox of the machine has a network (`networks()` counts them); the leases of dead processes
 * go. A live Runtime without sandboxes keeps it. Run by orphan collection (what a crashed process
 * left) and by `Runtime.close` after its own lease ended. Returns whether it was taken down.
 */
export async function collectHostNetwork(networks: () => Promise<number>, bridge?: string): Promise<boolean> {
  const release = await leasesLock();
  try {
    let live = false;
    for (const name of await readdir(leasesDir()).catch(() => [] as string[])) {
      const pid = Number(name.split('.')[0]);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) live = true;
      else await rm(join(leasesDir(), name), { force: true });
    }
    if (live || (await networks()) > 0) return false;
    const [recorded, made] = await Promise.all([readFile(bridgeRecord(), 'utf8').catch(() => undefined), readFile(marker(), 'utf8').then(() => true, () => false)]);
    if (recorded === undefined && !made) return false;
    // The bridge the network was made with; else (made before it was recorded) the configured one.
    await removeHostNetwork({ bridge: bridge ?? recorded?.trim() ?? networkConfig().bridge });
    return true;
  } finally {
    await release();
  }
}
