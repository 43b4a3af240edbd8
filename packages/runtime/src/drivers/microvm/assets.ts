/**
 * The guest assets the set-up (scripts/setup.d/30-microvm.sh) prepares: kernel, initramfs with
 * the agent, the benchmark's bare initramfs, recorded in `manifest.json` of the asset dir.
 */
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { RuntimeUnavailableError } from '@tartarus/core';

/** Asset dir: `$TARTARUS_MICROVM_DIR` or /var/cache/tartarus/microvm. */
export function defaultAssetDir(): string {
  return process.env.TARTARUS_MICROVM_DIR ?? '/var/cache/tartarus/microvm';
}

/** What the manifest records. */
export interface MicrovmAssets {
  kernelVersion: string;
  kernel: string;
  initramfs: string;
  bareInitramfs: string;
  /** Where template images are cached (`<assetDir>/images`). */
  imageDir: string;
  /** The initramfs holds the network modules and an agent that configures eth0 (assets made since networking). */
  network: boolean;
}

/** Reads and checks the manifest; throws `RuntimeUnavailableError` saying what to run when something is missing. */
export async function loadAssets(assetDir: string): Promise<MicrovmAssets> {
  const hint = 'run scripts/setup.sh (step scripts/setup.d/30-microvm.sh)';
  let m: Partial<MicrovmAssets> & { netModules?: unknown };
  try {
    m = JSON.parse(
      await readFile(join(assetDir, 'manifest.json'), 'utf8'),
    ) as Partial<MicrovmAssets> & { netModules?: unknown };
  } catch {
    throw new RuntimeUnavailableError(`microVM guest assets are missing in ${assetDir}: ${hint}`);
  }
  for (const key of ['kernel', 'initramfs', 'bareInitramfs'] as const) {
    const file = m[key];
    if (typeof file !== 'string' || !(await readable(file))) {
      throw new RuntimeUnavailableError(
        `microVM asset ${key} (${String(file)}) is missing: ${hint}`,
      );
    }
  }
  return {
    kernelVersion: String(m.kernelVersion),
    kernel: m.kernel as string,
    initramfs: m.initramfs as string,
    bareInitramfs: m.bareInitramfs as string,
    imageDir: join(assetDir, 'images'),
    network: Array.isArray(m.netModules) && m.netModules.length > 0,
  };
}

/** True when `path` can be read (or executed, with `exec`). */
export function readable(path: string, exec = false): Promise<boolean> {
  return access(path, exec ? constants.X_OK : constants.R_OK).then(
    () => true,
    () => false,
  );
}

/** Absolute path of `name` on $PATH, or undefined. */
export async function which(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    if (dir && (await readable(join(dir, name), true))) return join(dir, name);
  }
  return undefined;
}
