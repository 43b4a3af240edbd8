/**
 * Paths and tool calls shared by the OCI driver, its sandboxes, execs and file operations.
 * Every host object of a sandbox is named from its id alone (see driver.ts): the state dir
 * `<stateDir>/<runtime>/<id>/`, the container `tt-<id>` in the Runtime's own runtime root
 * `<stateDir>/<runtime>/.oci/`, and the cgroup `tartarus/<id>`.
 */
import { join } from 'node:path';
import { runCommand, type RunResult } from '../../process/run.js';
import { RUNTIME_PROCESS_OPTIONS } from './main-process.js';
import { Prespawner } from './prespawn.js';
import type { OciTool } from './tool.js';

/** Timeout of a one-shot runc/runsc call (kill, delete, pause...), ms. */
export const TOOL_TIMEOUT_MS = 30_000;

/** Where one sandbox's files live. */
export interface SandboxPaths {
  /** State dir; also the OCI bundle (config.json). */
  dir: string;
  config: string;
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
  /** The runtime's `--root`: only this Runtime's containers live there. */
  readonly runtimeRoot: string;
  /** Starts sandboxes' runtime processes (`tt-layer`), one kept waiting. */
  readonly prespawner: Prespawner;

  constructor(readonly tool: OciTool, stateDir: string) {
    this.driverDir = join(stateDir, tool.runtime);
    this.runtimeRoot = join(this.driverDir, '.oci');
    this.prespawner = new Prespawner(RUNTIME_PROCESS_OPTIONS);
  }

  containerId(id: string): string {
    return `tt-${id}`;
  }

  paths(id: string): SandboxPaths {
    const dir = join(this.driverDir, id);
    return { dir, config: join(dir, 'config.json'), spec: join(dir, 'spec.json'), pidFile: join(dir, 'pid'), rootfs: join(dir, 'rootfs') };
  }

  /** Runs a one-shot tool call; throws `InternalError` on failure unless `allowNonZero`. */
  call(argv: string[], options: { allowNonZero?: boolean; stdin?: Buffer | string; maxOutputBytes?: number; signal?: AbortSignal } = {}): Promise<RunResult> {
    return runCommand(argv, { timeoutMs: TOOL_TIMEOUT_MS, ...options });
  }
}
