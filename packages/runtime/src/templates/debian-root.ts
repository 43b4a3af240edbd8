/**
 * Finishing touches on a debootstrapped Debian root: drop documentation, translations and apt
 * caches (the same set Debian's own slim images drop, keeping copyright files), tell dpkg to keep
 * them out of later installs, and fingerprint the installed packages.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Directories whose contents go, except the names listed (debuerreotype's slimify set).
const SLIM: Array<[string, string[]]> = [
  ['usr/share/man', []],
  ['usr/share/info', []],
  ['usr/share/groff', []],
  ['usr/share/lintian', []],
  ['usr/share/linda', []],
  ['usr/share/locale', ['locale.alias']],
  ['var/cache/apt', ['archives']],
  ['var/cache/apt/archives', ['partial', 'lock']],
  ['var/lib/apt/lists', ['partial', 'lock']],
  ['var/log', []],
];

const DPKG_EXCLUDES = `# Tartarus templates keep no documentation or translations (copyright files stay).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
`;

/** Removes docs, man pages, translations, apt caches and logs from `rootfs`. */
export async function slimDebianRoot(rootfs: string): Promise<void> {
  for (const [dir, keep] of SLIM) await emptyDir(join(rootfs, dir), keep);
  // Per-package doc dirs lose everything but their copyright file.
  const docs = join(rootfs, 'usr/share/doc');
  for (const entry of await readdir(docs, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) await emptyDir(join(docs, entry.name), ['copyright']);
    else await rm(join(docs, entry.name), { force: true });
  }
  await mkdir(join(rootfs, 'etc/dpkg/dpkg.cfg.d'), { recursive: true });
  await writeFile(join(rootfs, 'etc/dpkg/dpkg.cfg.d/01-tartarus-slim'), DPKG_EXCLUDES, {
    mode: 0o644,
  });
}

async function emptyDir(dir: string, keep: string[]): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!keep.includes(name)) await rm(join(dir, name), { recursive: true, force: true });
  }
}

/** `name version arch` of every installed package in `rootfs`, sorted, from dpkg's status file. */
export async function installedPackages(rootfs: string): Promise<string[]> {
  const status = await readFile(join(rootfs, 'var/lib/dpkg/status'), 'utf8');
  const out: string[] = [];
  for (const stanza of status.split(/\n\n+/)) {
    const field = (name: string): string =>
      new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1] ?? '';
    if (field('Status') !== 'install ok installed') continue;
    out.push(`${field('Package')} ${field('Version')} ${field('Architecture')}`);
  }
  return out.sort();
}

/** Digest of a Debian root: the builder version, suite and the sorted installed package list. */
export async function debianDigest(rootfs: string, builder: string): Promise<string> {
  const hash = createHash('sha256').update(`${builder}\n`);
  for (const pkg of await installedPackages(rootfs)) hash.update(`${pkg}\n`);
  return hash.digest('hex');
}
