/**
 * Sandbox options in, resolved `SandboxSpec` out, once: `resolveSandboxOptions()` applies the
 * template's defaults and the limit defaults and checks every value, so that drivers never
 * re-check an optional. A bad value throws `InvalidArgumentError` saying what to change.
 */
import { InvalidArgumentError, newId, parseEgressRules, type Egress } from '@tartarus/core';
import type { OutputChunk, ResourceLimits, RuntimeName, SandboxSpec } from './driver.js';
import type { TemplateInfo } from './templates/types.js';
import { resolveArgv } from './images/config.js';
import type { RegistryAuth } from './images/registries.js';

/** What a caller asks for; everything but `template` has a default. */
export interface SandboxOptions {
  /** Sandbox id, `[a-z0-9][a-z0-9_-]{0,62}`. Default: a new `sbx_…` id (core's `newId`). */
  id?: string;
  /** Isolation backend. Default `container`. */
  runtime?: RuntimeName;
  /** Template name (`busybox`, `debian`, `python`); ignored when `image` is given. */
  template: string;
  /**
   * An OCI or Docker image reference (`nginx:1.25`, `127.0.0.1:5000/app@sha256:…`): the sandbox
   * starts from it, pulled on first use (images/), with its ENTRYPOINT, CMD, ENV, WORKDIR, USER.
   */
  image?: string;
  /** Credentials for `image`'s registry, for this pull only. */
  registryAuth?: RegistryAuth;
  /**
   * `always` (default): the reference is checked at its registry (with these credentials) even
   * when the image is cached — a cached private image is never served to a caller the registry
   * would refuse. `if-not-present`: a cached copy is used as is (a tenant's template, pinned by
   * digest, that the server already checked).
   */
  imagePull?: 'always' | 'if-not-present';
  /**
   * The main process: an argv array or a string (run with the template's shell, `sh -c
   * <string>`); as Docker's command it replaces the image's CMD and follows its ENTRYPOINT.
   * Default: see `whenNoCommand`.
   */
  command?: string[] | string;
  /** Replaces the image's ENTRYPOINT and, as in Docker, clears its CMD; `[]` clears it. */
  entrypoint?: string[];
  /** With no command: `idle` (default) the template's idle process (a sandbox), `image` the image's ENTRYPOINT + CMD (a run). */
  whenNoCommand?: 'idle' | 'image';
  /** Merged over the template's environment. */
  env?: Record<string, string>;
  /** Absolute working directory. Default: the template's (the sandbox user's home). */
  cwd?: string;
  /** `name`, `uid`, `uid:gid`, `name:group`... (Docker's forms). Default: the template's user (`sandbox`; an image's USER, else root). */
  user?: string;
  /** Written to the main process's stdin, then closed. Default: empty stdin. */
  stdin?: Buffer | string;
  /** Overrides of `DEFAULT_LIMITS`. */
  limits?: Partial<ResourceLimits>;
  /** Wall-clock limit of the main process in ms; 0 for none. Default 0 (`Runtime.run`: 10 min). */
  timeoutMs?: number;
  /** Bytes kept per stream; the rest is dropped with a marker. Default 1 MiB. */
  outputLimitBytes?: number;
  /** Time between SIGTERM and SIGKILL on kill or timeout, ms. Default 2000. */
  killGraceMs?: number;
  /** Receives every output chunk of the main process as produced. */
  onOutput?: (chunk: OutputChunk) => void;
  /** Called once the template is ready (pulled, built or found) and the sandbox is about to be made: a phase the caller may time. */
  onTemplateReady?: () => void;
  /**
   * What the sandbox may reach on the network (network/): `none` (default: loopback only, no
   * interface), `all` (all but what is always denied), or an allow list (`@tartarus/core`'s
   * `parseEgressRule`). Not `none`: the sandbox gets its own address on the node's bridge.
   */
  egress?: Egress;
  /**
   * A named group of sandboxes on this node that may reach each other (other sandboxes are always
   * unreachable); only with a network. Callers keep tenants apart by naming groups per tenant.
   */
  networkGroup?: string;
  /**
   * A filesystem snapshot (`SandboxHandle.snapshotFiles`: a tar of a writable layer, on this host)
   * the sandbox's writable layer starts from: its files as they were. Never from a warm pool.
   */
  seed?: string;
  /** Hibernate the sandbox once idle (no exec, file call or held connection) this long, ms (≥ 1000; microvm only). */
  hibernateAfterMs?: number;
}

/** Limits a sandbox gets unless told otherwise: 1 core, 512 MiB, 256 pids, 1 GiB writable layer. */
export const DEFAULT_LIMITS: Readonly<ResourceLimits> = { cpu: 1, memoryMiB: 512, pids: 256, diskMiB: 1024 };
/** Default output cap per stream, bytes (1 MiB). */
export const DEFAULT_OUTPUT_LIMIT_BYTES = 1 << 20;
/** Default grace between SIGTERM and SIGKILL, ms. */
export const DEFAULT_KILL_GRACE_MS = 2000;

const ID_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const USER_RE = /^([a-z_][a-z0-9_.-]{0,31}|\d{1,10})(:([a-z_][a-z0-9_.-]{0,31}|\d{1,10}))?$/i;
const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A new sandbox id: the platform's one id format (`sbx_…`, core's `newId`). */
export function newSandboxId(): string {
  return newId('sbx');
}

/** True when `id` is a valid sandbox id (`[a-z0-9][a-z0-9_-]{0,62}`: the platform's `sbx_…` ids fit). */
export function isSandboxId(id: string): boolean {
  return ID_RE.test(id);
}

/** Throws `InvalidArgumentError` unless `id` is a valid sandbox id. */
export function checkSandboxId(id: string): void {
  if (!isSandboxId(id)) {
    throw new InvalidArgumentError(
      `sandbox id ${JSON.stringify(id)} is invalid: use 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter or digit`,
    );
  }
}

/** Applies template and limit defaults to `options` and validates the result. */
export function resolveSandboxOptions(options: SandboxOptions, template: TemplateInfo): SandboxSpec {
  const id = options.id ?? newSandboxId();
  checkSandboxId(id);
  checkCommand(options.command);
  if (options.entrypoint !== undefined) checkArgv('entrypoint', options.entrypoint, true);
  const argv = resolveArgv(template.defaults, options, template.name);
  const env = { ...template.defaults.env, ...(options.env ?? {}) };
  for (const [k, v] of Object.entries(env)) {
    if (!ENV_KEY_RE.test(k)) throw new InvalidArgumentError(`env name ${JSON.stringify(k)} is invalid: use letters, digits and _`);
    if (typeof v !== 'string' || v.includes('\0')) throw new InvalidArgumentError(`env ${k} must be a string without NUL bytes`);
  }
  const cwd = options.cwd ?? template.defaults.cwd;
  if (!cwd.startsWith('/') || cwd.includes('\0')) throw new InvalidArgumentError(`cwd ${JSON.stringify(cwd)} must be an absolute path`);
  const user = options.user ?? template.defaults.user;
  if (!USER_RE.test(user)) {
    throw new InvalidArgumentError(`user ${JSON.stringify(user)} is invalid: give a user name, a uid or uid:gid`);
  }
  const spec: SandboxSpec = {
    id,
    template,
    process: { argv, env, cwd, user },
    limits: resolveLimits(options.limits),
    timeoutMs: nonNegative('timeoutMs', options.timeoutMs ?? 0),
    outputLimitBytes: nonNegative('outputLimitBytes', options.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES),
    killGraceMs: nonNegative('killGraceMs', options.killGraceMs ?? DEFAULT_KILL_GRACE_MS),
  };
  if (options.stdin !== undefined) spec.stdin = Buffer.from(options.stdin);
  if (options.onOutput) spec.onOutput = options.onOutput;
  if (options.egress !== undefined && options.egress !== 'none') {
    spec.network = { egress: checkEgress(options.egress), ...(options.networkGroup === undefined ? {} : { group: checkGroup(options.networkGroup) }) };
  } else if (options.networkGroup !== undefined) {
    throw new InvalidArgumentError('networkGroup needs a network: give an egress other than "none" too');
  }
  if (options.seed !== undefined) spec.seed = options.seed;
  if (options.hibernateAfterMs !== undefined) {
    if (!Number.isInteger(options.hibernateAfterMs) || options.hibernateAfterMs < 1000) throw new InvalidArgumentError(`hibernateAfterMs must be a whole number of ms, at least 1000 (got ${options.hibernateAfterMs})`);
    spec.hibernateAfterMs = options.hibernateAfterMs;
  }
  return spec;
}

function checkGroup(group: string): string {
  if (typeof group !== 'string' || group.length === 0 || group.length > 200 || group.includes('\0')) {
    throw new InvalidArgumentError(`networkGroup ${JSON.stringify(group)} is invalid: give 1..200 characters`);
  }
  return group;
}

function checkEgress(egress: Egress): Egress {
  if (egress === 'all') return egress;
  if (!Array.isArray(egress) || egress.length === 0) {
    throw new InvalidArgumentError(`egress must be "none", "all" or a non-empty allow list, got ${JSON.stringify(egress)}`);
  }
  try {
    parseEgressRules(egress);
  } catch (err) {
    throw new InvalidArgumentError(`egress entry ${(err as Error).message}`);
  }
  return [...egress];
}

function checkCommand(command: string[] | string | undefined): void {
  if (command === undefined) return;
  if (typeof command === 'string') {
    if (command.trim() === '') throw new InvalidArgumentError('command is an empty string: give a shell command or an argv array');
    if (command.includes('\0')) throw new InvalidArgumentError('command must not contain NUL bytes');
    return;
  }
  checkArgv('command', command, false);
}

function checkArgv(what: string, argv: unknown, mayBeEmpty: boolean): void {
  if (!Array.isArray(argv) || (!mayBeEmpty && (argv.length === 0 || argv[0] === ''))) {
    throw new InvalidArgumentError(`${what} argv is empty: give at least the program to run`);
  }
  if (argv.some((a) => typeof a !== 'string' || a.includes('\0'))) {
    throw new InvalidArgumentError(`${what} argv must be strings without NUL bytes`);
  }
}

function resolveLimits(partial: Partial<ResourceLimits> | undefined): ResourceLimits {
  const l = { ...DEFAULT_LIMITS, ...(partial ?? {}) };
  if (!(Number.isFinite(l.cpu) && l.cpu >= 0.01 && l.cpu <= 1024)) {
    throw new InvalidArgumentError(`limits.cpu ${l.cpu} is out of range: give cores between 0.01 and 1024 (e.g. 0.5)`);
  }
  const ints: [keyof ResourceLimits, number, number][] = [
    ['memoryMiB', 16, 1 << 20],
    ['pids', 8, 1 << 22],
    ['diskMiB', 1, 1 << 20],
  ];
  for (const [k, min, max] of ints) {
    const v = l[k];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(`limits.${k} ${v} is out of range: give an integer between ${min} and ${max}`);
    }
  }
  return l;
}

function nonNegative(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`${name} ${v} is invalid: give a non-negative integer`);
  return v;
}
