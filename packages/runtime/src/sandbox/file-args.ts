/**
 * Argument checks of `SandboxFiles` that do not depend on how a driver reaches the files, kept
 * in one place so that a bad argument gets the same `InvalidArgumentError` under every driver.
 */
import { InvalidArgumentError } from '@tartarus/core';

/** The mode a write gives the file: `mode` (default 0o644) if it is permission bits, else throws. */
export function fileMode(mode: number | undefined): number {
  const m = mode ?? 0o644;
  if (!Number.isInteger(m) || m < 0 || m > 0o7777) {
    throw new InvalidArgumentError(`mode ${m} is invalid: give permission bits such as 0o644`);
  }
  return m;
}

/** Throws unless the (absolute, normalized) `path` may be removed: never the sandbox root. */
export function checkRemovable(path: string): void {
  if (path === '/') throw new InvalidArgumentError('refusing to remove the sandbox root: give a path below /');
}
