/**
 * The field mappers of the Compose importer (`compose.ts`): one Compose service's command,
 * environment, ports, healthcheck, restart policy, replicas and limits → the V1 spec's fields.
 * Each reports what it cannot map through `note(path, message)`, with the Compose path.
 */
import { join as shellJoin, split as shellSplit } from 'shlex';
import type { EndpointSpec, HealthSpec, ServiceSpec } from './spec.js';
import type { PathSegment } from './source.js';
import { formatSpecDuration, parseSpecDurationMs } from './units.js';

/** Reports a Compose field (by its path) that is not mapped, or mapped with a change. */
export type Note = (path: PathSegment[], message: string) => void;

/** A Compose mapping, or null. */
export function asMap(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : null;
}

const WHOLE_VAR = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/;

/** Whether Compose would interpolate something in `text` (`$$` is an escaped `$`). */
export function interpolates(text: string): boolean {
  return /\$(\{|[A-Za-z_])/.test(text.replaceAll('$$', ''));
}

/** One environment value: `${VAR}` / `$VAR` as the whole value → `$E:VAR`; other interpolation is kept as text, noted. */
function envValue(raw: unknown, path: PathSegment[], note: Note): string {
  const text = raw === null || raw === undefined ? '' : String(raw);
  const whole = WHOLE_VAR.exec(text);
  if (whole) return `$E:${whole[1] ?? whole[2]}`;
  if (interpolates(text))
    note(
      path,
      `"${text}": Compose interpolation inside a value is not mapped (kept as text); $E:NAME works only as the whole value`,
    );
  return text.replaceAll('$$', '$');
}

/** `environment`, as a mapping or a `K=V` list; a name without a value comes from the deploying environment (`$E:`). */
export function mapEnvironment(
  env: unknown,
  path: PathSegment[],
  note: Note,
): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const map = asMap(env);
  if (map) {
    for (const [k, v] of Object.entries(map))
      out[k] = v === null ? `$E:${k}` : envValue(v, [...path, k], note);
  } else if (Array.isArray(env)) {
    for (const [i, item] of env.entries()) {
      const text = String(item);
      const eq = text.indexOf('=');
      if (eq < 0) out[text] = `$E:${text}`;
      else out[text.slice(0, eq)] = envValue(text.slice(eq + 1), [...path, i], note);
    }
  } else if (env !== undefined && env !== null) {
    note(path, 'is neither a mapping nor a list: not mapped');
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** `command` / `entrypoint`: a list as is, a string split as Compose splits it (shell words, no shell). */
export function mapArgv(value: unknown, path: PathSegment[], note: Note): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String);
  try {
    return shellSplit(String(value));
  } catch (e) {
    note(path, `cannot be split into words (${(e as Error).message}): not mapped`);
    return undefined;
  }
}

interface PortEntry {
  target: number;
  published: number | null;
  protocol: 'tcp' | 'udp';
  hostIp: string | null;
  name?: string;
  appProtocol?: string;
}

/** `a-b` or `a` → the ports, or null when not a port or range. */
function portRange(text: string): number[] | null {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65_535 || to < from || to - from >= 64) return null;
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Short syntax `[[host_ip:]published:]target[/protocol]`, ranges expanded (at most 64). */
function shortPort(text: string): PortEntry[] | null {
  const [spec = '', proto = 'tcp'] = text.split('/');
  if (proto !== 'tcp' && proto !== 'udp') return null;
  let rest = spec;
  let hostIp: string | null = null;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (v6) [hostIp, rest] = [v6[1] ?? null, v6[2] ?? ''];
  const parts = rest.split(':');
  if (parts.length === 3) hostIp = parts.shift() ?? null;
  if (parts.length > 2) return null;
  const targets = portRange(parts.at(-1) ?? '');
  const published = parts.length === 2 && parts[0] !== '' ? portRange(parts[0] ?? '') : null;
  if (
    !targets ||
    (parts.length === 2 && parts[0] !== '' && (!published || published.length !== targets.length))
  )
    return null;
  return targets.map((target, i) => ({
    target,
    published: published?.[i] ?? null,
    protocol: proto,
    hostIp,
  }));
}

function longPort(p: Record<string, unknown>): PortEntry[] | null {
  const target = Number(p.target);
  const protocol = p.protocol === undefined ? 'tcp' : p.protocol;
  if (
    !Number.isInteger(target) ||
    target < 1 ||
    target > 65_535 ||
    (protocol !== 'tcp' && protocol !== 'udp')
  )
    return null;
  const published = p.published === undefined ? null : portRange(String(p.published));
  if (p.published !== undefined && published?.length !== 1) return null;
  return [
    {
      target,
      published: published?.[0] ?? null,
      protocol,
      hostIp: typeof p.host_ip === 'string' ? p.host_ip : null,
      ...(typeof p.name === 'string' ? { name: p.name } : {}),
      ...(typeof p.app_protocol === 'string' ? { appProtocol: p.app_protocol } : {}),
    },
  ];
}

const LOOPBACK = /^(127\.|::1$|localhost$)/;

function endpointOf(p: PortEntry, expose: 'public' | 'internal'): EndpointSpec {
  const port = p.published ?? p.target;
  const protocol = p.appProtocol === 'http' ? 'http' : p.protocol;
  return {
    name: p.name ?? `${p.protocol}-${port}`,
    protocol,
    port,
    ...(port === p.target ? {} : { target_port: p.target }),
    expose,
  };
}

/** `ports` (published: public, or internal when bound to a loopback address) and `expose` (internal) → endpoints. */
export function mapPorts(
  svc: Record<string, unknown>,
  path: PathSegment[],
  note: Note,
): EndpointSpec[] | undefined {
  const out: EndpointSpec[] = [];
  const ports = Array.isArray(svc.ports) ? svc.ports : [];
  for (const [i, item] of ports.entries()) {
    const entries = asMap(item)
      ? longPort(asMap(item) as Record<string, unknown>)
      : shortPort(String(item));
    if (!entries) {
      note(
        [...path, 'ports', i],
        `"${typeof item === 'object' ? JSON.stringify(item) : String(item)}" is not a port Tartarus can map (a port or range of at most 64, tcp or udp)`,
      );
      continue;
    }
    for (const p of entries) {
      const local = p.hostIp !== null && LOOPBACK.test(p.hostIp);
      if (local)
        note(
          [...path, 'ports', i],
          `published on ${p.hostIp} only: written as an internal endpoint`,
        );
      else if (p.hostIp !== null && p.hostIp !== '0.0.0.0' && p.hostIp !== '::')
        note(
          [...path, 'ports', i],
          `host_ip ${p.hostIp} is not mapped: the proxy publishes on its own addresses`,
        );
      if (p.appProtocol !== undefined && p.appProtocol !== 'http')
        note(
          [...path, 'ports', i],
          `app_protocol ${p.appProtocol} is not mapped (the endpoint is ${p.protocol})`,
        );
      out.push(endpointOf(p, local ? 'internal' : 'public'));
    }
  }
  const exposed = Array.isArray(svc.expose) ? svc.expose : [];
  for (const [i, item] of exposed.entries()) {
    const entries = shortPort(String(item));
    if (!entries || entries.some((p) => p.published !== null)) {
      note([...path, 'expose', i], `"${String(item)}" is not a port or range Tartarus can map`);
      continue;
    }
    for (const p of entries) {
      if (!out.some((e) => (e.target_port ?? e.port) === p.target && e.protocol === p.protocol))
        out.push(endpointOf(p, 'internal'));
    }
  }
  return out.length > 0 ? out : undefined;
}

/** A Compose (Go) duration → a spec duration, or undefined (noted) when it has no spec form. */
function duration(value: unknown, path: PathSegment[], note: Note): string | undefined {
  if (value === undefined) return undefined;
  const ms = parseSpecDurationMs(String(value));
  if (ms === null) {
    note(
      path,
      `"${String(value)}" is not a duration Tartarus reads (units ms, s, m, h): the default is used`,
    );
    return undefined;
  }
  return formatSpecDuration(ms);
}

/**
 * `healthcheck` → `health` with a command check. Compose's own defaults (interval 30s, timeout
 * 30s, 3 retries, no start period) are written out, so that the checks keep their timing.
 */
export function mapHealthcheck(
  hc: Record<string, unknown>,
  path: PathSegment[],
  note: Note,
): HealthSpec | undefined {
  const test = hc.test;
  const words = Array.isArray(test)
    ? test.map(String)
    : typeof test === 'string'
      ? ['CMD-SHELL', test]
      : [];
  if (hc.disable === true || words[0] === 'NONE') {
    note(
      path,
      'disabled: not mapped (without a health block Tartarus checks the first TCP endpoint)',
    );
    return undefined;
  }
  let command: string | null = null;
  if (words[0] === 'CMD' && words.length > 1) command = shellJoin(words.slice(1));
  if (words[0] === 'CMD-SHELL' && words.length > 1) command = words.slice(1).join(' ');
  if (command === null) {
    note([...path, 'test'], 'is not ["CMD", …], ["CMD-SHELL", "…"], "…" or ["NONE"]: not mapped');
    return undefined;
  }
  for (const key of Object.keys(hc)) {
    if (!['test', 'interval', 'timeout', 'retries', 'start_period', 'disable'].includes(key))
      note([...path, key], 'is not mapped');
  }
  const retries =
    Number.isInteger(hc.retries) && (hc.retries as number) >= 0 && (hc.retries as number) <= 100
      ? (hc.retries as number)
      : 3;
  if (hc.retries !== undefined && retries !== hc.retries)
    note([...path, 'retries'], `${String(hc.retries)} is not 0 to 100: 3 is written`);
  return {
    start_grace: duration(hc.start_period, [...path, 'start_period'], note) ?? '0s',
    interval: duration(hc.interval, [...path, 'interval'], note) ?? '30s',
    timeout: duration(hc.timeout, [...path, 'timeout'], note) ?? '30s',
    retries,
    check: { type: 'command', command },
  };
}

/** `restart` / `deploy.restart_policy.condition` → `errors.on_panic`; Compose's default ("no") is written as `shutdown`. */
export function mapRestart(
  svc: Record<string, unknown>,
  path: PathSegment[],
  note: Note,
): ServiceSpec['errors'] {
  const policy = asMap(asMap(svc.deploy)?.restart_policy);
  if (policy) {
    for (const key of Object.keys(policy))
      if (key !== 'condition') note([...path, 'deploy', 'restart_policy', key], 'is not mapped');
    const condition = policy.condition ?? 'any';
    return { on_panic: condition === 'none' ? 'shutdown' : 'restart' };
  }
  const restart = svc.restart === undefined ? 'no' : String(svc.restart);
  const m = /^on-failure(?::(\d+))?$/.exec(restart);
  if (m?.[1] !== undefined)
    note(
      [...path, 'restart'],
      `the limit of ${m[1]} restarts is not mapped: Tartarus restarts without a limit`,
    );
  if (restart === 'no' || restart === 'false') return { on_panic: 'shutdown' };
  if (m || restart === 'always' || restart === 'unless-stopped') return { on_panic: 'restart' };
  note([...path, 'restart'], `"${restart}" is not a Compose restart policy: not mapped`);
  return undefined;
}

/** Docker's byte sizes (`512m`, `1g`, `1.5gb`, a number of bytes: binary units) → `NMi`, or undefined (noted). */
function memory(value: unknown, path: PathSegment[], note: Note): string | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|m|mb|g|gb|t|tb)?$/i.exec(String(value).trim());
  const unit = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[
    (m?.[2] ?? 'b').charAt(0).toLowerCase() as 'b'
  ];
  const mib = m ? Math.ceil((Number(m[1]) * unit) / 1024 ** 2) : NaN;
  if (!(mib >= 16 && mib <= 262_144)) {
    note(path, `"${String(value)}" is not a memory limit from 16 MiB to 256 GiB: not mapped`);
    return undefined;
  }
  return `${mib}Mi`;
}

/** `deploy.resources.limits` (or the older `cpus` / `mem_limit`) → `resources`. */
export function mapResources(
  svc: Record<string, unknown>,
  path: PathSegment[],
  note: Note,
): ServiceSpec['resources'] {
  const resources = asMap(asMap(svc.deploy)?.resources);
  const limits = asMap(resources?.limits) ?? {};
  for (const key of Object.keys(resources ?? {}))
    if (key !== 'limits')
      note([...path, 'deploy', 'resources', key], 'is not mapped: Tartarus sets limits only');
  for (const key of Object.keys(limits))
    if (key !== 'cpus' && key !== 'memory')
      note([...path, 'deploy', 'resources', 'limits', key], 'is not mapped');
  const [cpuValue, cpuPath] =
    limits.cpus !== undefined
      ? [limits.cpus, ['deploy', 'resources', 'limits', 'cpus']]
      : [svc.cpus, ['cpus']];
  const [memValue, memPath] =
    limits.memory !== undefined
      ? [limits.memory, ['deploy', 'resources', 'limits', 'memory']]
      : [svc.mem_limit, ['mem_limit']];
  const out: NonNullable<ServiceSpec['resources']> = {};
  if (cpuValue !== undefined) {
    const cpu = Number(cpuValue);
    if (cpu >= 0.05 && cpu <= 64) out.cpu = cpu;
    else
      note(
        [...path, ...cpuPath],
        `"${String(cpuValue)}" is not a CPU limit from 0.05 to 64 cores: not mapped`,
      );
  }
  if (memValue !== undefined) {
    const mem = memory(memValue, [...path, ...memPath], note);
    if (mem !== undefined) out.memory = mem;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
