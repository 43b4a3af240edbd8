/**
 * Service names of network groups, kept machine-wide on disk next to the groups themselves,
 * because the DNS relay that answers them (dns.ts) is one per machine and may live in another
 * Runtime than the one that was told the names (another agent's, or one started before it):
 *
 * - `groups/<key>/<sandbox id>` — a group's members, one file each holding `<veth> <address>`
 *   (written by `attach`, removed by `releaseNetwork`); `<key>` is a hash of the group's name;
 * - `names/<key>.<writer>.json` — `{ "names": { name: [sandbox id, …] } }`, one per group and per
 *   Runtime that was told it (`<writer>` hashes that Runtime's state dir): each node's control
 *   plane tells its own node's replicas, and two nodes on one machine share its groups.
 *
 * A name is answered with the addresses of the listed sandboxes that are members of the asking
 * sandbox's group now: a sandbox that went away drops out (within the relay's second of caching),
 * whatever the table says.
 * The names files of a group go with its last member.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@tartarus/core';
import { netRunDir } from './host.js';

/** The hash that names group `group`'s directory and names files. */
export function groupKey(group: string): string {
  return createHash('sha256').update(group).digest('hex').slice(0, 24);
}

/** Where the members of group `group` are recorded: one file per sandbox id, holding its port's name and address. */
export function groupDir(group: string): string {
  return join(netRunDir(), 'groups', groupKey(group));
}

function namesDir(): string {
  return join(netRunDir(), 'names');
}

/** The writer key of the Runtime whose state lives in `stateDir`. */
export function namesWriter(stateDir: string): string {
  return createHash('sha256').update(stateDir).digest('hex').slice(0, 12);
}

/** A name the relay may answer: lowercase DNS labels joined by dots, 253 characters at most. */
const NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** Names one group may have. */
const MAX_NAMES = 10_000;

/** Throws `InvalidArgumentError` naming what to change in a group's names table. */
export function checkServiceNames(group: string, names: Record<string, string[]>): void {
  if (group.length === 0 || group.length > 200 || group.includes('\0')) throw new InvalidArgumentError(`network group ${JSON.stringify(group)} is invalid: give 1..200 characters`);
  const entries = Object.entries(names);
  if (entries.length > MAX_NAMES) throw new InvalidArgumentError(`${entries.length} service names for one group: give at most ${MAX_NAMES}`);
  for (const [name, ids] of entries) {
    if (!NAME.test(name)) throw new InvalidArgumentError(`service name ${JSON.stringify(name)} is invalid: give lowercase DNS labels (letters, digits, "-") joined by "."`);
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(id))) throw new InvalidArgumentError(`service name ${name}: give a list of sandbox ids`);
  }
}

/**
 * Replaces the names of `group` this writer told (name → sandbox ids; names in lowercase, without
 * a trailing dot). An empty table removes them.
 */
export async function writeServiceNames(writer: string, group: string, names: Record<string, string[]>): Promise<void> {
  const path = join(namesDir(), `${groupKey(group)}.${writer}.json`);
  if (Object.keys(names).length === 0) return rm(path, { force: true });
  await mkdir(namesDir(), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ names }), { mode: 0o600 });
  await rename(tmp, path);
}

/** Removes every writer's names of group `group` (its last member went). */
export async function removeGroupNames(group: string): Promise<void> {
  const prefix = `${groupKey(group)}.`;
  const files = await readdir(namesDir()).catch(() => [] as string[]);
  await Promise.all(files.filter((f) => f.startsWith(prefix)).map((f) => rm(join(namesDir(), f), { force: true })));
}

/** The machine's groups and their names at one moment, as the relay reads them. */
export interface NamesSnapshot {
  /** A member's address → its group's key. */
  groupOf: Map<string, string>;
  /** A group's key → its members' sandbox ids → addresses. */
  members: Map<string, Map<string, string>>;
  /** A group's key → name → sandbox ids (every writer's merged). */
  names: Map<string, Map<string, string[]>>;
}

/** Reads the groups and names tables of the machine (a few small files; the relay caches it). */
export async function readNamesSnapshot(): Promise<NamesSnapshot> {
  const snap: NamesSnapshot = { groupOf: new Map(), members: new Map(), names: new Map() };
  const groupsRoot = join(netRunDir(), 'groups');
  const [keys, files] = await Promise.all([readdir(groupsRoot).catch(() => [] as string[]), readdir(namesDir()).catch(() => [] as string[])]);
  await Promise.all([
    ...keys.map(async (key) => {
      const ids = await readdir(join(groupsRoot, key)).catch(() => [] as string[]);
      const members = new Map<string, string>();
      const texts = await Promise.all(ids.map((id) => readFile(join(groupsRoot, key, id), 'utf8').catch(() => '')));
      ids.forEach((id, i) => {
        const address = /^tv[0-9a-f]{13} (\d{1,3}(?:\.\d{1,3}){3})$/.exec(texts[i]?.trim() ?? '')?.[1];
        if (address === undefined) return;
        members.set(id, address);
        snap.groupOf.set(address, key);
      });
      snap.members.set(key, members);
    }),
    ...files.filter((f) => f.endsWith('.json')).map(async (f) => {
      const table = await readFile(join(namesDir(), f), 'utf8').then(parseTable, () => undefined);
      if (table === undefined) return;
      const key = f.slice(0, f.indexOf('.'));
      const merged = snap.names.get(key) ?? new Map<string, string[]>();
      snap.names.set(key, merged);
      for (const [name, ids] of Object.entries(table)) merged.set(name, [...(merged.get(name) ?? []), ...ids]);
    }),
  ]);
  return snap;
}

function parseTable(text: string): Record<string, string[]> | undefined {
  try {
    const names = (JSON.parse(text) as { names?: unknown }).names;
    if (typeof names !== 'object' || names === null) return undefined;
    const out: Record<string, string[]> = {};
    for (const [name, ids] of Object.entries(names)) if (Array.isArray(ids)) out[name] = ids.filter((x): x is string => typeof x === 'string');
    return out;
  } catch {
    return undefined;
  }
}
