/**
 * The `gvisor` driver: runsc, whose user-space kernel answers the workload's syscalls so that
 * they never reach the host kernel. Shares everything but runsc's command lines (argv.ts) and
 * memory snapshots (checkpoint.ts, sandbox.ts) with the container driver.
 */
import { InvalidArgumentError } from '@tartarus/core';
import type { SandboxSpec } from '../../driver.js';
import type { ResolvedUser } from '../../sandbox/user.js';
import type { SandboxPaths } from '../shared/context.js';
import { OciDriver, type OciDriverOptions } from '../shared/oci-driver.js';
import type { Adopted, OciSandbox } from '../shared/sandbox.js';
import { isMemorySnapshot } from '../shared/snapshot.js';
import { runscTool } from './argv.js';
import { unpackMemorySnapshot } from './checkpoint.js';
import { GvisorSandbox, type Restored } from './sandbox.js';

/** runsc sandboxes. */
export class GvisorDriver extends OciDriver {
  constructor(options: OciDriverOptions) {
    super(runscTool, options);
  }

  protected override makeSandbox(spec: SandboxSpec, user: ResolvedUser, agentSecret: string, adopted?: Adopted, uidBase?: number, networkRules?: Promise<void>, restored?: Restored): OciSandbox {
    return new GvisorSandbox(this.ctx, spec, user, agentSecret, adopted, uidBase, networkRules, restored);
  }

  /** A memory snapshot's checkpoint, unpacked in the sandbox's state dir; undefined for a files snapshot. */
  protected override async restoredFrom(spec: SandboxSpec, paths: SandboxPaths, uidBase: number): Promise<Restored | undefined> {
    if (spec.seed === undefined || !(await isMemorySnapshot(spec.seed))) return undefined;
    if (spec.network) throw new InvalidArgumentError('a sandbox made from a memory snapshot has no network (its processes keep the address they had): create it with egress "none"');
    return unpackMemorySnapshot(spec.seed, paths.dir, uidBase);
  }
}
