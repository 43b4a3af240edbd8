/**
 * Paths and tool calls shared by the OCI driver, its sandboxes, execs and file operations.
 * Every host object of a sandbox is named from its id alone (see driver.ts): the state dir
 * `<stateDir>/<runtime>/<id>/`, the container `tt-<id>` in the Runtime's own runtime root
 * `<stateDir>/<runtime>/.oci/`, and the cgroup `tartarus/<id>`. A runtime that runs inside the
 * sandbox's user namespace (`userns: 'enter'`, runsc) cannot reach a root-only state dir: its
 * bundle, pid file and runtime root are the sandbox's run dir `/run/tartarus/roots/<id>/`
 * (owned by the sandbox's mapped root), and only the resolved spec stays in the state dir.
 */
import { join } from 'node:path';
import { InvalidArgumentError } from '@tartarus/core';
import type { SandboxNetworks } from '../../network/sandbox.js';
import { userNsRootPath } from '../../sandbox/native.js';
import { runCommand, type RunResult } from '../../process/run.js';
import { RUNTIME_PROCESS_OPTIONS } from './main-process.js';
import { Prespawner } from './prespawn.js';
import type { OciTool } from './tool.js';

/** Timeout of a one-shot runc/runsc call (kill, delete, pause...), ms. */
export const TOOL_TIMEOUT_MS = 30_000;

/** Where one sandbox's files live. */
export interface SandboxPaths {
  /** State dir (root only). */
  dir: string;
  /** The OCI bundle (config.json, the pid file, and where the layer and rootfs are mounted): the state dir, or the run dir with `enter`. */
  bundle: string;
  config: string;
  /** The runtime's `--root` for this sandbox: the Runtime's own, or one in the run dir with `enter`. */
  runtimeRoot: string;
  /** The resolved spec, for adopt() after a restart. */
  spec: string;
  /** Written by the runtime once the main process runs. */
  pidFile: string;
  /** The overlay's merged dir (exists only inside the sandbox's mount namespace). */
  rootfs: string;
}

/** What a driver instance shares with its sandboxes. */
export class OciContext {
  /** `<stateDir>/<runtime>` */
  readonly driverDir: string;
  /** The runtime's `--root` (with `join`): only this Runtime's containers live there. */
  readonly runtimeRoot: string;
  /** Starts sandboxes' runtime processes (`tt-layer`), one kept waiting. */
  readonly prespawner: Prespawner;

  constructor(
    readonly tool: OciTool,
    stateDir: string,
    private readonly getNetworks?: () => SandboxNetworks,
  ) {
    this.driverDir = join(stateDir, tool.runtime);
    this.runtimeRoot = join(this.driverDir, '.oci');
    this.prespawner = new Prespawner(RUNTIME_PROCESS_OPTIONS);
  }

  /** The sandboxes' networks; `InvalidArgumentError` when this driver was made without them. */
  networks(): SandboxNetworks {
    if (!this.getNetworks) throw new InvalidArgumentError(`this ${this.tool.runtime} driver has no network: create the sandbox through a Runtime, or with egress "none"`);
    return this.getNetworks();
  }

  containerId(id: string): string {
    return `tt-${id}`;
  }

  paths(id: string): SandboxPaths {
    const dir = join(this.driverDir, id);
    const entered = this.tool.userns === 'enter';
    const bundle = entered ? userNsRootPath(id) : dir;
    return {
      dir,
      bundle,
      config: join(bundle, 'config.json'),
      runtimeRoot: entered ? join(bundle, 'state') : this.runtimeRoot,
      spec: join(dir, 'spec.json'),
      pidFile: join(bundle, 'pid'),
      rootfs: join(bundle, 'rootfs'),
    };
  }

  /** Runs a one-shot tool call; throws `InternalError` on failure unless `allowNonZero`. */
  call(argv: string[], options: { allowNonZero?: boolean; stdin?: Buffer | string; maxOutputBytes?: number; signal?: AbortSignal } = {}): Promise<RunResult> {
    return runCommand(argv, { timeoutMs: TOOL_TIMEOUT_MS, ...options });
  }
}
