/**
 * Resolves a process user (`name`, `uid`, `uid:gid`) to numeric ids from the template's own
 * /etc/passwd and /etc/group, on the host, before the container starts (runc and runsc take
 * numbers). The template root is Tartarus-built, but a file there that is a symlink is refused
 * anyway so that an imported image cannot make the host read one of its own files.
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@tartarus/core';

/** Numeric identity of a process. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups (from /etc/group membership). */
  additionalGids: number[];
}

const cache = new Map<string, Promise<{ passwd: string; group: string }>>();
/** Users resolved per template root and user (a template's root never changes): a create resolves its user twice, an exec with a user once. */
const resolved = new Map<string, ResolvedUser>();
const RESOLVED_MAX = 4096;

async function readTemplateFile(rootfs: string, rel: string): Promise<string> {
  // Neither `etc` nor the file may be a symlink: it would be resolved on the host.
  const [dir, file] = await Promise.all([lstat(join(rootfs, 'etc')).catch(() => undefined), lstat(join(rootfs, rel)).catch(() => undefined)]);
  if (!dir?.isDirectory() || !file?.isFile()) return '';
  return readFile(join(rootfs, rel), 'utf8');
}

function databases(rootfs: string): Promise<{ passwd: string; group: string }> {
  let p = cache.get(rootfs);
  if (!p) {
    p = Promise.all([readTemplateFile(rootfs, 'etc/passwd'), readTemplateFile(rootfs, 'etc/group')]).then(
      ([passwd, group]) => ({ passwd, group }),
    );
    cache.set(rootfs, p);
  }
  return p;
}

/**
 * Resolves `user` — Docker's forms `name`, `uid`, `name:group`, `uid:gid`, `name:gid`, `uid:group`
 * — against the template at `rootfs`; throws `InvalidArgumentError` for a name it does not have.
 */
export async function resolveUser(rootfs: string, user: string): Promise<ResolvedUser> {
  const key = `${rootfs}\0${user}`;
  const known = resolved.get(key);
  if (known) return { ...known, additionalGids: [...known.additionalGids] };
  const r = await resolveFrom(await databases(rootfs), user);
  if (resolved.size >= RESOLVED_MAX) resolved.clear();
  resolved.set(key, r);
  return { ...r, additionalGids: [...r.additionalGids] };
}

function resolveFrom({ passwd, group }: { passwd: string; group: string }, user: string): ResolvedUser {
  const [who = '', grp] = user.split(':');
  const users = passwd.split('\n').map((l) => l.split(':')).filter((f) => f.length >= 4);
  const entry = /^\d+$/.test(who) ? users.find((f) => f[2] === who) : users.find((f) => f[0] === who);
  if (!/^\d+$/.test(who) && !entry) {
    throw new InvalidArgumentError(`user ${JSON.stringify(who)} does not exist in the template: give a uid[:gid] or a user from its /etc/passwd`);
  }
  const uid = /^\d+$/.test(who) ? Number(who) : Number(entry?.[2]);
  let gid: number;
  if (grp === undefined) gid = Number(entry?.[3] ?? uid);
  else if (/^\d+$/.test(grp)) gid = Number(grp);
  else {
    const g = group.split('\n').map((l) => l.split(':')).find((f) => f.length >= 3 && f[0] === grp);
    if (!g) throw new InvalidArgumentError(`group ${JSON.stringify(grp)} does not exist in the template: give a gid or a group from its /etc/group`);
    gid = Number(g[2]);
  }
  const name = entry?.[0];
  // As Docker: an explicit group replaces the user's groups; without one, /etc/group membership adds them.
  const additionalGids = name === undefined || grp !== undefined ? [] : supplementaryGroups(group, name, gid);
  return { uid, gid, additionalGids };
}

function supplementaryGroups(group: string, name: string, primary: number): number[] {
  const gids: number[] = [];
  for (const line of group.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || !(f[3] ?? '').split(',').includes(name)) continue;
    const g = Number(f[2]);
    if (Number.isInteger(g) && g !== primary) gids.push(g);
  }
  return gids;
}
