/**
 * What the agent needs from the runtime, as a narrow port: the `Runtime` facade of
 * `@tartarus/runtime` is adapted to it in `runtime-adapter.ts`. Keeping the port small lets the
 * agent's protocol logic stay independent of how drivers and templates are wired.
 */
import type { AgentPoolStats, Egress, ImageReport, TemplateProgress, TemplateReport, WorkloadSpec } from '@tartarus/core';
import type { OutputChunk, PoolConfig, SandboxHandle, SandboxInfo } from '@tartarus/runtime';

/** Progress of a template build. */
export type BuildProgress = TemplateProgress;
export type { TemplateReport };

/** How to start a sandbox for a spec. */
export interface StartOptions {
  /** The runtime sandbox id. */
  sandboxId: string;
  /** The compiled spec, as the server sent it. */
  spec: WorkloadSpec;
  /** Credentials for the registry of `spec.image`, for this pull only. */
  registryAuth?: { username: string; password: string } | undefined;
  /** Receives every output chunk of the main process. */
  onOutput?: (chunk: OutputChunk) => void;
  /** Called once the template is ready on this node. */
  onTemplateReady?: () => void;
}

/** The runtime as the agent uses it. */
export interface AgentRuntime {
  /** Runtime names that work on this machine. */
  availableRuntimes(): Promise<string[]>;
  /**
   * Creates the sandbox of `spec` (building its template if needed) and starts its main process.
   * `once`: the spec's command with the spec's timeout; `until-timeout`: the template's idle
   * process with no timeout of its own (the agent's timer holds it, so it can be extended).
   */
  createAndStart(options: StartOptions, signal?: AbortSignal): Promise<SandboxHandle>;
  /** Replaces a running sandbox's egress policy; ConflictError (409) when it has no network. */
  setEgress(handle: SandboxHandle, egress: Egress): Promise<void>;
  /** Every sandbox on the host, including ones from before a restart. */
  list(): Promise<SandboxInfo[]>;
  /** Re-attaches to a running or paused sandbox. */
  adopt(info: SandboxInfo): Promise<SandboxHandle>;
  /** Bytes sandbox `sandboxId` has sent over its network link (0 without one), for usage metering. */
  egressBytes(sandboxId: string): Promise<number>;
  /** Removes every host object of a sandbox. Idempotent. */
  destroy(info: SandboxInfo): Promise<void>;
  /** Replaces network group `group`'s service names on this node (name → sandbox ids; `{}` removes them); InvalidArgumentError for a bad name. */
  setServiceNames(group: string, names: Record<string, string[]>): Promise<void>;
  listTemplates(): Promise<TemplateReport[]>;
  /** Throws an `InvalidArgumentError` naming what to change in a pool config. */
  checkPools(pools: PoolConfig[]): void;
  /** Starts keeping the warm pools topped up (see @tartarus/runtime `WarmPools`). */
  startPools(pools: PoolConfig[]): Promise<void>;
  /** Keeps the sandbox's files as a content-addressed snapshot on this node (InvalidArgument for a runtime without snapshots). */
  snapshot(handle: SandboxHandle, snapshotId: string, maxBytes: number, memory: boolean): Promise<{ digest: string; sizeBytes: number }>;
  /** Removes a snapshot (its files, when no other snapshot has them) from this node. Idempotent. */
  deleteSnapshot(snapshotId: string, digest: string): Promise<void>;
  /** The warm pools; `take` starts their create counts again from zero. */
  poolStats(take: boolean): AgentPoolStats[];
  /** Resizes a forecast-driven pool within its autoscale range (NotFound / InvalidArgument otherwise). */
  setPoolSize(key: string, size: number): AgentPoolStats;
  /** Releases what the runtime keeps ahead of need (warm pools' idle sandboxes, waiting runtime processes); live sandboxes stay. */
  release(): Promise<void>;
  buildTemplate(name: string, onProgress: (p: BuildProgress) => void): Promise<TemplateReport>;
  /** Pulls an image (resolving its reference at the registry now). */
  pullImage(ref: string, auth: RegistryAuth | undefined, onProgress: (p: BuildProgress) => void): Promise<ImageReport>;
  /** Builds an image from a Dockerfile in a tar archive of its context. */
  buildImage(o: { tag: string; dockerfile: string; context: Buffer; auth?: Record<string, RegistryAuth> | undefined }, onProgress: (p: BuildProgress) => void): Promise<ImageReport>;
  /** Removes unused images until the store fits `budgetBytes`. */
  collectImages(budgetBytes: number): Promise<{ removed: string[]; freedBytes: number; keptBytes: number }>;
}

/** Registry credentials for one call. */
export interface RegistryAuth {
  username: string;
  password: string;
}
