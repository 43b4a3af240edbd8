/**
 * What the agent needs from the runtime, as a narrow port: the `Runtime` facade of
 * `@tartarus/runtime` is adapted to it in `runtime-adapter.ts`. Keeping the port small lets the
 * agent's protocol logic stay independent of how drivers and templates are wired.
 */
import type { OutputChunk, ResourceLimits, SandboxHandle, SandboxInfo } from '@tartarus/runtime';

/** A sandbox to create and start. */
export interface CreateOptions {
  id: string;
  runtime: string;
  template: string;
  /** argv run as is, or a string run with the template's shell; undefined: the template's idle process. */
  command?: string[] | string;
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
  stdin?: Buffer;
  limits: ResourceLimits;
  /** Wall-clock limit of the main process, ms; 0 for none. */
  timeoutMs: number;
  onOutput?: (chunk: OutputChunk) => void;
}

/** A template as the agent reports it. */
export interface TemplateReport {
  name: string;
  description: string;
  built: boolean;
  sizeBytes?: number;
  digest?: string;
  builtAtMs?: number;
}

/** Progress of a template build. */
export interface BuildProgress {
  template: string;
  phase: string;
  fraction?: number;
  message: string;
}

/** The runtime as the agent uses it. */
export interface AgentRuntime {
  /** Runtime names that work on this machine. */
  availableRuntimes(): Promise<string[]>;
  /** Creates the sandbox (building its template if needed) and starts its main process. */
  createAndStart(options: CreateOptions, signal?: AbortSignal): Promise<SandboxHandle>;
  /** Every sandbox on the host, including ones from before a restart. */
  list(): Promise<SandboxInfo[]>;
  /** Re-attaches to a running or paused sandbox. */
  adopt(info: SandboxInfo): Promise<SandboxHandle>;
  /** Removes every host object of a sandbox. Idempotent. */
  destroy(info: SandboxInfo): Promise<void>;
  listTemplates(): Promise<TemplateReport[]>;
  buildTemplate(name: string, onProgress: (p: BuildProgress) => void): Promise<TemplateReport>;
}
