/**
 * A sandbox handed out by a warm pool under the caller's id. The pooled sandbox was created
 * under an id of its own (every host object is named from it), so the caller's id is recorded
 * as a claim: `<stateDir>/claims/<id>.json` holding the runtime and the host id. `Runtime.list()`
 * reports the sandbox under the caller's id and `adopt()` / `destroy()` find it by that id, also
 * after a restart. The claim goes with the sandbox.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { ConflictError, InvalidArgumentError, type Egress } from '@tartarus/core';
import { join } from 'node:path';
import type { ExecHandle, ExecOptions, ProcessResult, RuntimeName, SandboxFiles, SandboxHandle, SandboxState, SandboxStats } from '../driver.js';

/** What a claim file holds. */
export interface Claim {
  runtime: RuntimeName;
  hostId: string;
}

/** Where claims live under a Runtime's state dir. */
export function claimsDir(stateDir: string): string {
  return join(stateDir, 'claims');
}

/** Records that `id` names the sandbox `claim.hostId`. */
export async function writeClaim(stateDir: string, id: string, claim: Claim): Promise<void> {
  const dir = claimsDir(stateDir);
  // 'wx': two creates racing for one id cannot both claim it. The directory is made by the first claim.
  const write = () => writeFile(join(dir, `${id}.json`), JSON.stringify(claim), { flag: 'wx' });
  await write()
    .catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await write();
    })
    .catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? new ConflictError(`sandbox ${id} already exists: choose another id`) : err;
    });
}

export async function removeClaim(stateDir: string, id: string): Promise<void> {
  await rm(join(claimsDir(stateDir), `${id}.json`), { force: true });
}

/** The claim of `id`, or undefined. */
export async function readClaim(stateDir: string, id: string): Promise<Claim | undefined> {
  return readFile(join(claimsDir(stateDir), `${id}.json`), 'utf8').then(
    (t) => JSON.parse(t) as Claim,
    () => undefined,
  );
}

/** Every claim: caller's id → claim. */
export async function readClaims(stateDir: string): Promise<Map<string, Claim>> {
  const dir = claimsDir(stateDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out = new Map<string, Claim>();
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const claim = await readFile(join(dir, name), 'utf8').then((t) => JSON.parse(t) as Claim, () => undefined);
    if (claim) out.set(name.slice(0, -'.json'.length), claim);
  }
  return out;
}

/** The pooled sandbox under the caller's id; everything else is the sandbox's own. */
export class ClaimedSandbox implements SandboxHandle {
  constructor(
    private readonly inner: SandboxHandle,
    readonly id: string,
    private readonly stateDir: string,
  ) {}

  get runtime(): RuntimeName {
    return this.inner.runtime;
  }

  get files(): SandboxFiles {
    return this.inner.files;
  }

  state(): SandboxState {
    return this.inner.state();
  }

  start(signal?: AbortSignal): Promise<void> {
    return this.inner.start(signal);
  }

  wait(): Promise<ProcessResult> {
    return this.inner.wait();
  }

  kill(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void> {
    return this.inner.kill(options);
  }

  exec(options: ExecOptions): Promise<ExecHandle> {
    return this.inner.exec(options);
  }

  pause(): Promise<void> {
    return this.inner.pause();
  }

  resume(): Promise<void> {
    return this.inner.resume();
  }

  stats(): Promise<SandboxStats> {
    return this.inner.stats();
  }

  async setDeadline(atMs: number): Promise<void> {
    await this.inner.setDeadline?.(atMs);
  }

  async setEgress(egress: Egress): Promise<void> {
    if (!this.inner.setEgress) throw new ConflictError(`sandbox ${this.id} has no network`);
    await this.inner.setEgress(egress);
  }

  async address(): Promise<string | undefined> {
    return this.inner.address?.();
  }

  async snapshotFiles(path: string, options?: { maxBytes?: number }): Promise<{ sizeBytes: number }> {
    if (!this.inner.snapshotFiles) throw new InvalidArgumentError(`sandbox ${this.id}'s runtime has no snapshots`);
    return this.inner.snapshotFiles(path, options);
  }

  async snapshotMemory(path: string, options?: { maxBytes?: number }): Promise<{ sizeBytes: number }> {
    if (!this.inner.snapshotMemory) throw new ConflictError(`sandbox ${this.id}'s runtime (${this.runtime}) cannot save its memory: take a files snapshot`);
    return this.inner.snapshotMemory(path, options);
  }

  get hibernated(): boolean {
    return this.inner.hibernated ?? false;
  }

  async hibernate(): Promise<{ stateBytes: number }> {
    if (!this.inner.hibernate) throw new ConflictError(`sandbox ${this.id}'s runtime (${this.runtime}) cannot save its memory: only microVMs hibernate`);
    return this.inner.hibernate();
  }

  async wake(): Promise<void> {
    await this.inner.wake?.();
  }

  onHibernation(fn: (hibernated: boolean) => void): void {
    this.inner.onHibernation?.(fn);
  }

  hold(): () => void {
    return this.inner.hold?.() ?? (() => undefined);
  }

  async destroy(): Promise<void> {
    await this.inner.destroy();
    await removeClaim(this.stateDir, this.id);
  }
}
