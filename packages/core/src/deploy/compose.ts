/**
 * Kampe, the legacy adapter: a Docker Compose file → a V1 deployment spec (as an object and as
 * YAML), plus the list of what could not be mapped, each with its Compose path and line. Mapped:
 * services, image (and pull_policy), command / entrypoint / working_dir, environment (mapping or
 * list), ports (short and long syntax) and expose, depends_on (list, or mapping with conditions),
 * healthcheck, restart and deploy.restart_policy, deploy.replicas (and scale),
 * deploy.resources.limits (and cpus / mem_limit). The rest is listed, never silently dropped.
 * The mapping itself is described in docs/deployments.md.
 */
import { Document } from 'yaml';
import type { DeploymentSpec, ServiceSpec } from './spec.js';
import { DeploymentSpecError, issueAt, type PathSegment, type SpecIssue } from './source.js';
import { readYaml } from './yaml-source.js';
import {
  asMap,
  interpolates,
  mapArgv,
  mapEnvironment,
  mapHealthcheck,
  mapPorts,
  mapResources,
  mapRestart,
  type Note,
} from './compose-fields.js';
import { parseDeploymentSpec } from './parse.js';
import { checkDeployment } from './checks.js';

/** Options of `importCompose`. */
export interface ComposeImportOptions {
  /** The Compose file's name, for messages; default none. */
  file?: string;
  /** The deployment name when the file has no top-level `name` (the CLI passes the file's directory name); default "compose-app". */
  name?: string;
}

/** What `importCompose` made. */
export interface ComposeImport {
  /** The V1 spec. */
  spec: DeploymentSpec;
  /** The spec as YAML, with a header saying where it came from. */
  yaml: string;
  /** What could not be mapped (or was mapped with a change), by Compose path and line, in file order. */
  unmapped: SpecIssue[];
}

/** Service keys mapped (wholly or partly) by this importer. */
const MAPPED_KEYS = new Set([
  'image',
  'build',
  'pull_policy',
  'command',
  'entrypoint',
  'working_dir',
  'environment',
  'ports',
  'expose',
  'depends_on',
  'healthcheck',
  'restart',
  'deploy',
  'scale',
  'cpus',
  'mem_limit',
]);

/** Why some common service keys are not mapped (any other unmapped key gets a generic line). */
const WHY_NOT: Record<string, string> = {
  volumes: 'replicas have no persistent storage or host mounts',
  networks:
    'the services of a deployment reach each other by name; there are no user-defined networks',
  env_file: 'the file is not read: copy its variables into environment, or use $E:NAME',
  container_name: 'replicas are named by the platform',
  user: "the image's user is used",
  privileged: 'sandboxes are never privileged',
  cap_add: 'sandboxes never get extra capabilities',
  devices: 'sandboxes never get host devices',
  secrets: 'use $S:name in environment for a tenant secret',
  configs: 'there are no config files; use environment',
  labels: 'there are no container labels',
  logging: "output goes to the platform's logs",
};

/** Top-level keys of Compose handled here or deliberately passed over without a note. */
const TOP_LEVEL_QUIET = new Set(['services', 'name', 'version']);

/** A DNS-label version of a Compose name: lowercase, `-` for anything else, starting with a letter. */
function dnsName(name: string, min: number): string {
  let out = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(out)) out = `s-${out}`.replace(/-+$/, '');
  while (out.length < min) out += '-app';
  return out.slice(0, 63).replace(/-+$/, '');
}

/** Compose service names → spec names, each change noted. */
function renameServices(services: Record<string, unknown>, note: Note): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const original of Object.keys(services)) {
    let name = dnsName(original, 1);
    for (let i = 2; taken.has(name); i++) name = `${dnsName(original, 1).slice(0, 60)}-${i}`;
    taken.add(name);
    names.set(original, name);
    if (name !== original)
      note(
        ['services', original],
        `renamed to "${name}": a service name is a DNS name (lowercase letters, digits, "-")`,
      );
  }
  return names;
}

function mapImage(
  name: string,
  svc: Record<string, unknown>,
  path: PathSegment[],
  note: Note,
): ServiceSpec['image'] {
  const pull = (
    {
      always: 'always',
      never: 'never',
      missing: 'if_not_present',
      if_not_present: 'if_not_present',
    } as const
  )[String(svc.pull_policy) as 'always'];
  if (svc.pull_policy !== undefined && pull === undefined)
    note([...path, 'pull_policy'], `"${String(svc.pull_policy)}" is not mapped`);
  if (typeof svc.image !== 'string') {
    note(
      [...path, svc.build === undefined ? 'image' : 'build'],
      `no image to run: build it, push it and set image.name (example.invalid/${name}:latest is written in its place)`,
    );
    return { name: `example.invalid/${name}:latest` };
  }
  if (svc.build !== undefined)
    note([...path, 'build'], 'is not run: the image is used as it is in its registry');
  if (interpolates(svc.image))
    note(
      [...path, 'image'],
      `"${svc.image}": Compose interpolation is not mapped (kept as written)`,
    );
  return { name: svc.image, ...(pull === undefined ? {} : { pull_policy: pull }) };
}

function mapScale(
  svc: Record<string, unknown>,
  path: PathSegment[],
  note: Note,
): ServiceSpec['scale'] {
  const deploy = asMap(svc.deploy);
  const [value, at] =
    deploy?.replicas !== undefined
      ? [deploy.replicas, ['deploy', 'replicas']]
      : [svc.scale, ['scale']];
  if (value === undefined) return { mode: 'fixed', replicas: 1 };
  if (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 1000)
    return { mode: 'fixed', replicas: value as number };
  note([...path, ...at], `${String(value)} replicas is not 1 to 1000: 1 is written`);
  return { mode: 'fixed', replicas: 1 };
}

const CONDITIONS: Record<string, 'started' | 'healthy'> = {
  service_started: 'started',
  service_healthy: 'healthy',
  service_completed_successfully: 'healthy',
};

/** `depends_on` → `depends`; the services waited on to complete successfully are returned, to become jobs. */
function mapDepends(
  svc: Record<string, unknown>,
  path: PathSegment[],
  names: Map<string, string>,
  note: Note,
): { depends: ServiceSpec['depends']; jobs: string[] } {
  const raw = svc.depends_on;
  const entries: [string, Record<string, unknown>][] = Array.isArray(raw)
    ? raw.map((n) => [String(n), {}])
    : Object.entries(asMap(raw) ?? {}).map(([n, v]) => [n, asMap(v) ?? {}]);
  const jobs: string[] = [];
  const depends = entries.map(([target, opts]) => {
    const at = [...path, 'depends_on', target];
    const condition = opts.condition === undefined ? 'service_started' : String(opts.condition);
    if (CONDITIONS[condition] === undefined)
      note([...at, 'condition'], `"${condition}" is not a Compose condition: started is written`);
    if (condition === 'service_completed_successfully') jobs.push(target);
    for (const key of Object.keys(opts))
      if (key !== 'condition') note([...at, key], 'is not mapped');
    return { service: names.get(target) ?? target, condition: CONDITIONS[condition] ?? 'started' };
  });
  return { depends: depends.length > 0 ? depends : undefined, jobs };
}

function noteUnmappedKeys(svc: Record<string, unknown>, path: PathSegment[], note: Note): void {
  for (const key of Object.keys(svc)) {
    if (MAPPED_KEYS.has(key) || key.startsWith('x-')) continue;
    note([...path, key], `not mapped: ${WHY_NOT[key] ?? 'the V1 spec has no equivalent'}`);
  }
  const deploy = asMap(svc.deploy) ?? {};
  for (const key of Object.keys(deploy)) {
    if (!['replicas', 'resources', 'restart_policy'].includes(key))
      note([...path, 'deploy', key], 'not mapped: the V1 spec has no equivalent');
  }
}

function mapService(
  original: string,
  svc: Record<string, unknown>,
  names: Map<string, string>,
  note: Note,
): { spec: ServiceSpec; jobs: string[] } {
  const path = ['services', original];
  const name = names.get(original) ?? original;
  const entrypoint = mapArgv(svc.entrypoint, [...path, 'entrypoint'], note);
  const args = mapArgv(svc.command, [...path, 'command'], note);
  const command = {
    ...(entrypoint === undefined ? {} : { entrypoint }),
    ...(args === undefined ? {} : { args }),
    ...(typeof svc.working_dir === 'string' ? { workdir: svc.working_dir } : {}),
  };
  const hc = asMap(svc.healthcheck);
  const { depends, jobs } = mapDepends(svc, path, names, note);
  noteUnmappedKeys(svc, path, note);
  const spec: ServiceSpec = {
    image: mapImage(name, svc, path, note),
    command: Object.keys(command).length > 0 ? command : undefined,
    env: mapEnvironment(svc.environment, [...path, 'environment'], note),
    resources: mapResources(svc, path, note),
    endpoints: mapPorts(svc, path, note),
    scale: mapScale(svc, path, note),
    depends,
    health: hc ? mapHealthcheck(hc, [...path, 'healthcheck'], note) : undefined,
    errors: mapRestart(svc, path, note),
  };
  return { spec: JSON.parse(JSON.stringify(spec)) as ServiceSpec, jobs };
}

/** The spec as YAML with a header, and a note when it does not pass the spec's own checks yet. */
function render(spec: DeploymentSpec, file: string | null, unmapped: SpecIssue[]): string {
  const doc = new Document(spec);
  doc.commentBefore = ` Imported from ${file ?? 'a Compose file'} by \`tartarus import compose\`: review what it said it could not map.`;
  const yaml = doc.toString({ lineWidth: 0 });
  try {
    const parsed = parseDeploymentSpec(yaml, { file: 'the imported spec' });
    checkDeployment(parsed.spec, parsed.source);
  } catch (e) {
    unmapped.push({
      path: '',
      line: null,
      message: `the imported spec does not validate yet: ${(e as Error).message}`,
    });
  }
  return yaml;
}

/**
 * Imports a Compose file. Throws `DeploymentSpecError` (naming the line) for text that is not
 * YAML or has no `services` mapping; everything else that cannot be mapped is in `unmapped`.
 */
export function importCompose(text: string, options: ComposeImportOptions = {}): ComposeImport {
  const file = options.file ?? null;
  const { data, source } = readYaml(text, file);
  const top = asMap(data);
  const services = asMap(top?.services);
  if (!top || !services || Object.keys(services).length === 0) {
    throw new DeploymentSpecError(file, [
      issueAt(
        source,
        top ? ['services'] : [],
        'a Compose file needs a services mapping with at least one service',
      ),
    ]);
  }
  const unmapped: SpecIssue[] = [];
  const note: Note = (path, message) => unmapped.push(issueAt(source, path, message));
  for (const key of Object.keys(top)) {
    if (!TOP_LEVEL_QUIET.has(key) && !key.startsWith('x-'))
      note([key], `not mapped: ${WHY_NOT[key] ?? 'the V1 spec has no equivalent'}`);
  }
  const names = renameServices(services, note);
  const out: Record<string, ServiceSpec> = {};
  const jobs = new Set<string>();
  for (const [original, value] of Object.entries(services)) {
    const mapped = mapService(original, asMap(value) ?? {}, names, note);
    out[names.get(original) ?? original] = mapped.spec;
    for (const j of mapped.jobs) jobs.add(j);
  }
  for (const original of jobs) {
    const name = names.get(original);
    const svc = name === undefined ? undefined : out[name];
    if (!svc || name === undefined) continue;
    out[name] = { rtype: 'job', ...svc };
    note(
      ['services', original],
      'made a job (rtype: job): a service waits for it to complete successfully, which a job\'s "healthy" means',
    );
  }
  const given = typeof top.name === 'string' ? top.name : (options.name ?? 'compose-app');
  const deployment = dnsName(given, 3);
  if (typeof top.name === 'string' && deployment !== top.name)
    note(
      ['name'],
      `the deployment is named "${deployment}" (3 to 63 lowercase letters, digits and "-")`,
    );
  const spec: DeploymentSpec = { version: 'v1', deployment, services: out };
  unmapped.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  return { spec, yaml: render(spec, file, unmapped), unmapped };
}
