/**
 * On-disk layout of the template cache:
 *
 *   <dir>/<name>/rootfs/          read-only root, world-readable
 *   <dir>/<name>/template.json    TemplateInfo; its presence means "built"
 *   <dir>/.<name>.lock            held while a process builds or removes <name>
 *   <dir>/.build-<name>-XXXXXX/   a build in progress (or a crashed one, removed on next build)
 *   <dir>/.old-<name>-<pid>-<ms>/ the previous template while a rebuild replaces it
 *   <dir>/.cache/                 downloads shared by builds (debootstrap's .deb files)
 *
 * A build fills a temp dir and renames it into place, template.json included, so a crash at any
 * point never leaves a half template that looks built.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../process/run.js';
import type { TemplateInfo } from './types.js';

/** The shared template cache used when nothing else is configured. */
export const DEFAULT_TEMPLATE_DIR = '/var/cache/tartarus/templates';

/** `$TARTARUS_TEMPLATE_DIR`, else `DEFAULT_TEMPLATE_DIR`. */
export function defaultTemplateDir(): string {
  return process.env.TARTARUS_TEMPLATE_DIR || DEFAULT_TEMPLATE_DIR;
}

/** What template.json holds: the info plus the builder version that produced it. */
export interface StoredTemplate extends TemplateInfo {
  builderVersion: number;
}

/** Paths of one template inside the cache `dir`. */
export function templatePaths(dir: string, name: string) {
  const root = join(dir, name);
  return {
    root,
    rootfs: join(root, 'rootfs'),
    info: join(root, 'template.json'),
    lock: join(dir, `.${name}.lock`),
    buildPrefix: `.build-${name}-`,
    oldPrefix: `.old-${name}-`,
  };
}

/**
 * Reads a built template, or undefined when it is absent, unreadable, or from another builder
 * version (then it is rebuilt). `rootfsPath` is recomputed so a moved cache stays valid.
 */
export async function readTemplate(
  dir: string,
  name: string,
  builderVersion: number,
): Promise<StoredTemplate | undefined> {
  const paths = templatePaths(dir, name);
  let stored: StoredTemplate;
  try {
    stored = JSON.parse(await readFile(paths.info, 'utf8')) as StoredTemplate;
  } catch {
    return undefined;
  }
  if (stored.builderVersion !== builderVersion || stored.name !== name) return undefined;
  return { ...stored, rootfsPath: paths.rootfs };
}

/** Apparent size in bytes of the tree at `path`, hard links counted once. */
export async function treeSizeBytes(path: string, signal?: AbortSignal): Promise<number> {
  const { stdout } = await runCommand(['du', '-s', '--bytes', '--', path], {
    signal,
    timeoutMs: 120_000,
  });
  const bytes = Number.parseInt(stdout, 10);
  return Number.isFinite(bytes) ? bytes : 0;
}
