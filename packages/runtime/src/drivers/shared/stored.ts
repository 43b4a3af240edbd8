/**
 * The sandbox record kept in its state dir (`spec.json`): the resolved spec minus callbacks and
 * stdin, plus the resolved user. `adopt()` rebuilds a handle from it after a restart, so execs
 * and file operations get the same defaults as before.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { RuntimeName, SandboxSpec } from '../../driver.js';
import type { ResolvedUser } from '../../sandbox/user.js';
import { NotFoundError } from '@tartarus/core';

/** What `spec.json` holds. */
export interface StoredSandbox {
  runtime: RuntimeName;
  spec: Omit<SandboxSpec, 'onOutput' | 'stdin'>;
  user: ResolvedUser;
  createdAtMs: number;
  /** The secret an attaching host presents to the sandbox's init (base64; the state dir is 0700). */
  agentSecret: string;
  /** Host id of container uid 0 when the sandbox has its own user namespace (runc). */
  uidBase?: number;
}

/** The storable part of a spec. */
export function storable(spec: SandboxSpec): StoredSandbox['spec'] {
  const { onOutput: _o, stdin: _s, ...rest } = spec;
  return rest;
}

/**
 * Writes the record (no fsync: after a host crash there is nothing left to adopt anyway). Owner
 * only: it holds the tenant's environment and the attach secret.
 */
export async function writeStored(path: string, record: StoredSandbox): Promise<void> {
  await writeFile(path, JSON.stringify(record), { mode: 0o600 });
}

/** Reads the record; `NotFoundError` when missing or unreadable. */
export async function readStored(path: string, id: string): Promise<StoredSandbox> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as StoredSandbox;
  } catch (cause) {
    throw new NotFoundError(`sandbox ${id} has no readable record at ${path}`, { cause });
  }
}
