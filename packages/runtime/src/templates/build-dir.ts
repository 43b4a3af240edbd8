/**
 * The build directory protocol (see `layout.ts`): fill a temp dir under the cache, write
 * template.json into it, rename it into place. Only the rename makes a template visible, so a
 * crash or a cancel at any point leaves at most a `.build-*` dir, which the next build of that
 * template removes. Callers hold the template's lock.
 */
import { chmod, mkdir, mkdtemp, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildContext, TemplateDefinition } from './builder.js';
import { removeTree } from './fs-safe.js';
import { readTemplate, templatePaths, treeSizeBytes, type StoredTemplate } from './layout.js';
import type { TemplateInfo } from './types.js';

/** Builds `def` into a temp dir under `dir` and renames it into place, replacing any old one. */
export async function buildTemplate(
  dir: string,
  def: TemplateDefinition,
  base: Omit<BuildContext, 'rootfs'>,
): Promise<TemplateInfo> {
  const paths = templatePaths(dir, def.name);
  const work = await mkdtemp(join(dir, paths.buildPrefix));
  const { signal, report } = base;
  try {
    const rootfs = join(work, 'rootfs');
    await mkdir(rootfs);
    await chmod(rootfs, 0o755);
    const { digest } = await def.build({ ...base, rootfs });
    signal.throwIfAborted();
    report('finalize', 'measuring size', 0.98);
    const info: StoredTemplate = {
      name: def.name,
      rootfsPath: paths.rootfs,
      defaults: def.defaults,
      digest,
      sizeBytes: await treeSizeBytes(rootfs, signal),
      builtAtMs: Date.now(),
      builderVersion: def.builderVersion,
    };
    await writeFile(join(work, 'template.json'), `${JSON.stringify(info, null, 2)}\n`, {
      mode: 0o644,
    });
    await chmod(work, 0o755); // mkdtemp made it 0700; templates are world-readable
    signal.throwIfAborted();
    await swapIntoPlace(dir, work, def.name);
    report('done', `built ${def.name} (${info.sizeBytes} bytes)`, 1);
    return info;
  } catch (err) {
    await removeTree(work);
    throw err;
  }
}

// Moves an existing template aside, the new one in, then deletes the old one.
async function swapIntoPlace(dir: string, work: string, name: string): Promise<void> {
  const paths = templatePaths(dir, name);
  const aside = join(dir, `${paths.oldPrefix}${process.pid}-${Date.now()}`);
  const moved = await rename(paths.root, aside).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
  await rename(work, paths.root);
  if (moved) await removeTree(aside);
}

/**
 * Removes what crashed or cancelled builds of `def` left in `dir`, and a template dir that is
 * not a valid template (no template.json, or one from another builder version).
 */
export async function removeLeftovers(dir: string, def: TemplateDefinition): Promise<void> {
  const paths = templatePaths(dir, def.name);
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (entry.startsWith(paths.buildPrefix) || entry.startsWith(paths.oldPrefix)) {
      await removeTree(join(dir, entry));
    }
  }
  if (!(await readTemplate(dir, def.name, def.builderVersion))) await removeTree(paths.root);
}
