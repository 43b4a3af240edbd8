/**
 * An image's own settings (the OCI image config's `config` object): ENTRYPOINT, CMD, ENV, WORKDIR,
 * USER and exposed ports, read once at pull and turned into the defaults of the template made
 * from it. Docker's rules apply: no USER is uid 0, no WORKDIR is `/`, no PATH gets Docker's
 * default PATH.
 */
import { InvalidArgumentError } from '@tartarus/core';
import type { TemplateDefaults } from '../templates/types.js';

/** What Tartarus keeps of an image's config. */
export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  workdir: string;
  user: string;
  /** As the image declares them, e.g. `8080/tcp`; recorded, not opened (ports go through the proxy). */
  exposedPorts: string[];
  /** `amd64`, `arm64`, ... */
  architecture: string;
  os: string;
}

/** Docker's PATH for an image that sets none. */
export const DOCKER_DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Reads the parts of an OCI (or Docker) image config blob that Tartarus uses. */
export function parseImageConfig(blob: unknown): ImageConfig {
  const top = (blob ?? {}) as Record<string, unknown>;
  const c = (top.config ?? {}) as Record<string, unknown>;
  const env: Record<string, string> = {};
  for (const line of strings(c.Env)) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  if (env.PATH === undefined) env.PATH = DOCKER_DEFAULT_PATH;
  const workdir = typeof c.WorkingDir === 'string' && c.WorkingDir.startsWith('/') ? c.WorkingDir : '/';
  // No USER: uid 0 by number, as Docker does (an image built FROM scratch has no /etc/passwd).
  const user = typeof c.User === 'string' && c.User !== '' ? c.User : '0';
  const ports = c.ExposedPorts && typeof c.ExposedPorts === 'object' ? Object.keys(c.ExposedPorts) : [];
  return {
    entrypoint: strings(c.Entrypoint),
    cmd: strings(c.Cmd),
    env,
    workdir,
    user,
    exposedPorts: ports.sort(),
    architecture: typeof top.architecture === 'string' ? top.architecture : 'amd64',
    os: typeof top.os === 'string' ? top.os : 'linux',
  };
}

/**
 * The template defaults of an image: a sandbox's idle main process is Tartarus's own (`argv`
 * empty: the in-sandbox agent idles, so an image without `sleep` still makes a sandbox); a run
 * without a command gets ENTRYPOINT + CMD.
 */
export function imageDefaults(config: ImageConfig): TemplateDefaults {
  return {
    argv: [],
    entrypoint: [...config.entrypoint],
    cmd: [...config.cmd],
    env: { ...config.env },
    cwd: config.workdir,
    user: config.user,
    shell: ['/bin/sh', '-c'],
  };
}

/** What a caller may override of a template's command (Docker's `--entrypoint` and the command after the image). */
export interface CommandOverrides {
  /** Replaces ENTRYPOINT (and, as in Docker, clears CMD). `[]` clears ENTRYPOINT. */
  entrypoint?: string[] | undefined;
  /** Replaces CMD: an argv, or a string run with the template's shell (`sh -c`). */
  command?: string[] | string | undefined;
  /** With no command: `idle` runs the template's idle process (a sandbox), `image` its ENTRYPOINT + CMD (a run). */
  whenNoCommand?: 'idle' | 'image' | undefined;
}

/**
 * Docker's override rules: argv = ENTRYPOINT + CMD, where a given command replaces CMD and a given
 * entrypoint replaces ENTRYPOINT and clears CMD. Returns `[]` for "the idle process".
 */
export function resolveArgv(defaults: TemplateDefaults, o: CommandOverrides, templateName: string): string[] {
  const entrypoint = o.entrypoint ?? defaults.entrypoint ?? [];
  let cmd: string[];
  if (o.command !== undefined) {
    cmd = typeof o.command === 'string' ? [...defaults.shell, o.command] : [...o.command];
  } else if (o.entrypoint !== undefined) {
    cmd = [];
  } else if (o.whenNoCommand === 'image') {
    cmd = [...(defaults.cmd ?? [])];
  } else {
    return [...defaults.argv];
  }
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0 || argv[0] === '') {
    throw new InvalidArgumentError(
      `template ${templateName} has no ENTRYPOINT or CMD to run: give a command (or an entrypoint)`,
      { context: { template: templateName } },
    );
  }
  return argv;
}
