/**
 * The files every template root shares, whatever built it: the unprivileged `sandbox` user,
 * mount-point directories the drivers mount over, and placeholder host files the drivers
 * replace per sandbox (so no host's /etc/hosts or resolv.conf leaks into a template).
 */
import { appendFile, chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** uid and gid of the unprivileged `sandbox` user in every template. */
export const SANDBOX_UID = 1000;
/** Home and default working directory of the `sandbox` user. */
export const SANDBOX_HOME = '/home/sandbox';

// [path, mode]: sticky world-writable temp dirs, the rest plain mount points.
const DIRS: Array<[string, number]> = [
  ['proc', 0o555],
  ['sys', 0o555],
  ['dev', 0o755],
  ['dev/shm', 0o1777],
  ['dev/pts', 0o755],
  ['etc', 0o755],
  ['tmp', 0o1777],
  ['var/tmp', 0o1777],
  ['run', 0o755],
  ['run/lock', 0o1777],
  ['root', 0o700],
  ['home', 0o755],
  ['mnt', 0o755],
];

const HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';
const RESOLV = '# Placeholder: the sandbox driver provides the resolver configuration.\n';

/** Creates the shared directories and placeholder files under `rootfs`. */
export async function writeSkeleton(rootfs: string): Promise<void> {
  for (const [dir, mode] of DIRS) {
    await mkdir(join(rootfs, dir), { recursive: true });
    await chmod(join(rootfs, dir), mode); // mkdir's mode is masked by umask
  }
  await writeFile(join(rootfs, 'etc/hosts'), HOSTS, { mode: 0o644 });
  await writeFile(join(rootfs, 'etc/resolv.conf'), RESOLV, { mode: 0o644 });
  await writeFile(join(rootfs, 'etc/hostname'), 'sandbox\n', { mode: 0o644 });
}

/**
 * Adds `root` (if absent) and the `sandbox` user and group to the root's account files,
 * creating them when missing, and makes the sandbox home. `shell` is the login shell.
 */
export async function addUsers(rootfs: string, shell: string): Promise<void> {
  const id = SANDBOX_UID;
  await ensureLine(rootfs, 'etc/passwd', 'root', 'root:x:0:0:root:/root:/bin/sh', 0o644);
  await ensureLine(rootfs, 'etc/group', 'root', 'root:x:0:', 0o644);
  await ensureLine(
    rootfs,
    'etc/passwd',
    'sandbox',
    `sandbox:x:${id}:${id}:sandbox:${SANDBOX_HOME}:${shell}`,
    0o644,
  );
  await ensureLine(rootfs, 'etc/group', 'sandbox', `sandbox:x:${id}:`, 0o644);
  await ensureLine(
    rootfs,
    'etc/passwd',
    'nobody',
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
    0o644,
  );
  await ensureLine(rootfs, 'etc/group', 'nogroup', 'nogroup:x:65534:', 0o644);
  const home = join(rootfs, SANDBOX_HOME);
  await mkdir(home, { recursive: true });
  await chmod(home, 0o755);
  await chown(home, id, id);
}

/**
 * Adds the sandbox user's shadow entries, for roots that have shadow files (Debian's). A
 * locked password: the account is for running processes, not for logging in.
 */
export async function addShadowEntries(rootfs: string): Promise<void> {
  await ensureLine(rootfs, 'etc/shadow', 'sandbox', 'sandbox:!:19000:0:99999:7:::', 0o640);
  await ensureLine(rootfs, 'etc/gshadow', 'sandbox', 'sandbox:!::', 0o640);
}

// Appends `line` to a colon-separated account file unless an entry named `name` exists.
async function ensureLine(
  rootfs: string,
  file: string,
  name: string,
  line: string,
  mode: number,
): Promise<void> {
  const path = join(rootfs, file);
  const text = await readFile(path, 'utf8').catch(() => '');
  if (text.split('\n').some((l) => l.startsWith(`${name}:`))) return;
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  await appendFile(path, `${sep}${line}\n`, { mode });
}
