/**
 * The checks of a spec that look at more than one field: cron and its schedule, endpoints that
 * would bind the same port, dependencies that name no service or go round in a cycle, scale
 * bounds, health checks that cannot be resolved, init steps and their inputs. Each problem is
 * located like a schema error; `checkDeployment` throws them all at once, in file order.
 */
import { CronPattern } from 'croner';
import type { DeploymentSpec, EndpointSpec, ServiceSpec } from './spec.js';
import {
  DeploymentSpecError,
  issueAt,
  type PathSegment,
  type SpecIssue,
  type SpecSource,
} from './source.js';

type Report = (path: PathSegment[], message: string) => void;

const HTTP_LIKE = new Set(['http', 'https', 'websocket']);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0']);

/**
 * Why `schedule` is not one Tartarus accepts, or null: 5 fields (minute hour day month weekday),
 * 6 (seconds first) or 7 (seconds first, year last), checked by croner. Refused on purpose: a
 * numeric weekday in a 6- or 7-field schedule (ZLayer's parser counts 1 = Sunday there, standard
 * cron 0 = Sunday, and a silent one-day shift is worse than an error); a year field other than
 * `*`, a year, a list or a range; nicknames such as `@daily` (the scheduler counts fields).
 */
export function cronScheduleProblem(schedule: string): string | null {
  const fields = schedule.trim().split(/\s+/);
  const weekday = fields[5];
  const year = fields[6];
  if (schedule.trim().startsWith('@')) {
    return `"${schedule}": nicknames are not read: write the fields, e.g. "0 0 * * *" for @daily`;
  }
  if (year !== undefined && !/^(\*|\?|\d{1,4}(-\d{1,4})?(,\d{1,4}(-\d{1,4})?)*)$/.test(year)) {
    return `"${schedule}": the year field must be *, a year, a list or a range (e.g. 2027-2030)`;
  }
  if (
    (fields.length === 6 || fields.length === 7) &&
    weekday !== undefined &&
    /\d/.test(weekday.replace(/#\d+/g, ''))
  ) {
    return `"${schedule}": a numeric day of week is ambiguous in a ${fields.length}-field schedule (ZLayer counts 1 = Sunday, cron 0 = Sunday): write day names, e.g. MON-FRI`;
  }
  try {
    new CronPattern(schedule, undefined, { mode: 'auto' });
    return null;
  } catch (e) {
    const why = (e as Error).message.replace(/^CronPattern:\s*/, '');
    return `"${schedule}" is not a cron schedule (${why}): use 5 fields "minute hour day month weekday", or 6 to 7 with seconds first and a year last`;
  }
}

function checkSchedule(svc: ServiceSpec, report: Report): void {
  const kind = svc.rtype ?? 'service';
  if (kind === 'cron' && svc.schedule === undefined)
    report(['rtype'], 'cron needs a schedule, e.g. schedule: "0 3 * * *"');
  if (kind !== 'cron' && svc.schedule !== undefined)
    report(['schedule'], `is only for rtype: cron (this is rtype: ${kind})`);
  if (svc.schedule !== undefined) {
    const problem = cronScheduleProblem(svc.schedule);
    if (problem) report(['schedule'], problem);
  }
}

/** Whether two endpoints can share a port: only as HTTP routes of one protocol with different paths. */
function canSharePort(a: EndpointSpec, b: EndpointSpec): boolean {
  return (
    a.protocol === b.protocol && HTTP_LIKE.has(a.protocol) && (a.path ?? '/') !== (b.path ?? '/')
  );
}

function socketKey(e: EndpointSpec): string {
  return `${e.protocol === 'udp' ? 'udp' : 'tcp'}/${e.port}`;
}

function checkEndpoints(svc: ServiceSpec, report: Report): void {
  const names = new Map<string, number>();
  const bound = new Map<string, { e: EndpointSpec; i: number }[]>();
  for (const [i, e] of (svc.endpoints ?? []).entries()) {
    const same = names.get(e.name);
    if (same !== undefined)
      report(['endpoints', i, 'name'], `"${e.name}" is already the name of endpoints[${same}]`);
    else names.set(e.name, i);
    if (e.path !== undefined && !HTTP_LIKE.has(e.protocol))
      report(['endpoints', i, 'path'], 'is only for http, https and websocket endpoints');
    const others = bound.get(socketKey(e)) ?? [];
    const clash = others.find((o) => !canSharePort(o.e, e));
    if (clash) {
      report(
        ['endpoints', i, 'port'],
        `${e.port} is already the port of endpoints[${clash.i}] (${clash.e.name}): endpoints share a port only as http routes with different paths`,
      );
    }
    bound.set(socketKey(e), [...others, { e, i }]);
  }
}

/** Public endpoints of different services bind the same proxy port: they must be able to share it. */
function checkPublicPorts(spec: DeploymentSpec, issues: SpecIssue[], source: SpecSource): void {
  const bound = new Map<string, { e: EndpointSpec; where: string }[]>();
  for (const [name, svc] of Object.entries(spec.services)) {
    for (const [i, e] of (svc.endpoints ?? []).entries()) {
      if (e.expose !== 'public') continue;
      const others = (bound.get(socketKey(e)) ?? []).filter(
        (o) => !o.where.startsWith(`services.${name}.`),
      );
      const clash = others.find((o) => !canSharePort(o.e, e));
      const path = ['services', name, 'endpoints', i, 'port'];
      if (clash)
        issues.push(
          issueAt(
            source,
            path,
            `public port ${e.port} is already published by ${clash.where}: public endpoints share a port only as http routes with different paths`,
          ),
        );
      bound.set(socketKey(e), [
        ...(bound.get(socketKey(e)) ?? []),
        { e, where: `services.${name}.endpoints[${i}]` },
      ]);
    }
  }
}

function checkScale(svc: ServiceSpec, report: Report): void {
  const scale = svc.scale;
  if (scale?.mode !== 'adaptive') return;
  if (scale.min > scale.max)
    report(['scale', 'min'], `${scale.min} is more than max (${scale.max})`);
  if ((svc.rtype ?? 'service') !== 'service')
    report(
      ['scale', 'mode'],
      `adaptive scaling is for services: a ${svc.rtype} runs a fixed number of copies (mode: fixed)`,
    );
}

function checkHealth(svc: ServiceSpec, report: Report): void {
  const check = svc.health?.check;
  if (
    check?.type === 'tcp' &&
    check.port === 0 &&
    !(svc.endpoints ?? []).some((e) => e.protocol !== 'udp')
  ) {
    report(
      ['health', 'check', 'port'],
      '0 means the port of the first TCP endpoint, and this service has none: give the port',
    );
  }
  if (check?.type !== 'http') return;
  let url: URL | null = null;
  try {
    url = new URL(check.url);
  } catch {
    /* reported below */
  }
  if (!url || url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname)) {
    report(
      ['health', 'check', 'url'],
      `"${check.url}": a health check probes the replica itself over plain HTTP: write http://localhost:PORT/PATH`,
    );
  }
}

const INIT_ACTIONS: Record<string, { required: string[]; optional: string[] }> = {
  'init.wait_tcp': { required: ['host', 'port'], optional: [] },
  'init.wait_http': { required: ['url'], optional: ['expect_status'] },
  'init.run': { required: ['command'], optional: [] },
};

function initInputProblem(key: string, value: unknown): string | null {
  const text = typeof value === 'string' && value.trim() !== '';
  if (key === 'port')
    return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65_535
      ? null
      : 'must be a port number, 1 to 65535';
  if (key === 'expect_status')
    return Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 599
      ? null
      : 'must be an HTTP status code, 100 to 599';
  if (key === 'url')
    return text && /^https?:\/\//.test(value as string)
      ? null
      : 'must be an http:// or https:// URL';
  return text ? null : 'must be non-empty text (a command line is run by the shell)';
}

function checkInit(svc: ServiceSpec, report: Report): void {
  const ids = new Map<string, number>();
  for (const [i, step] of (svc.init?.steps ?? []).entries()) {
    const at = (...rest: PathSegment[]) => ['init', 'steps', i, ...rest];
    const same = ids.get(step.id);
    if (same !== undefined)
      report(at('id'), `"${step.id}" is already the id of init.steps[${same}]`);
    else ids.set(step.id, i);
    const action = INIT_ACTIONS[step.uses];
    if (!action) {
      report(
        at('uses'),
        `"${step.uses}" is not an init action (known: ${Object.keys(INIT_ACTIONS).join(', ')})`,
      );
      continue;
    }
    const given = step.with ?? {};
    for (const key of action.required)
      if (given[key] === undefined) report(at('with', key), `is required by ${step.uses}`);
    for (const [key, value] of Object.entries(given)) {
      if (![...action.required, ...action.optional].includes(key)) {
        report(
          at('with', key),
          `is not an input of ${step.uses} (inputs: ${[...action.required, ...action.optional].join(', ')})`,
        );
      } else {
        const problem = initInputProblem(key, value);
        if (problem) report(at('with', key), problem);
      }
    }
  }
}

function checkDepends(name: string, svc: ServiceSpec, spec: DeploymentSpec, report: Report): void {
  const seen = new Set<string>();
  for (const [i, dep] of (svc.depends ?? []).entries()) {
    const at: PathSegment[] = ['depends', i, 'service'];
    const target = spec.services[dep.service];
    if (dep.service === name) report(at, 'a service cannot depend on itself');
    else if (!target)
      report(
        at,
        `"${dep.service}" is not a service of this deployment (services: ${Object.keys(spec.services).join(', ')})`,
      );
    else if (target.rtype === 'cron')
      report(
        at,
        `"${dep.service}" is a cron service, which does not run between its schedules: depend on a service or a job`,
      );
    if (seen.has(dep.service)) report(at, `"${dep.service}" is listed twice`);
    seen.add(dep.service);
  }
}

/** The first dependency cycle, as the path of the edge that closes it and the names around it. */
function findCycle(spec: DeploymentSpec): { path: PathSegment[]; names: string[] } | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): { path: PathSegment[]; names: string[] } | null => {
    state.set(name, 'open');
    stack.push(name);
    for (const [i, dep] of (spec.services[name]?.depends ?? []).entries()) {
      if (dep.service === name || !spec.services[dep.service]) continue;
      if (state.get(dep.service) === 'open') {
        return {
          path: ['services', name, 'depends', i, 'service'],
          names: [...stack.slice(stack.indexOf(dep.service)), dep.service],
        };
      }
      const found = state.has(dep.service) ? null : visit(dep.service);
      if (found) return found;
    }
    stack.pop();
    state.set(name, 'done');
    return null;
  };
  for (const name of Object.keys(spec.services)) {
    const found = state.has(name) ? null : visit(name);
    if (found) return found;
  }
  return null;
}

/** Runs every cross-field check; throws one `DeploymentSpecError` with all problems, in file order. */
export function checkDeployment(spec: DeploymentSpec, source: SpecSource): void {
  const issues: SpecIssue[] = [];
  for (const [name, svc] of Object.entries(spec.services)) {
    const report: Report = (path, message) =>
      issues.push(issueAt(source, ['services', name, ...path], message));
    checkSchedule(svc, report);
    if (svc.image.name.startsWith('template:') && svc.image.pull_policy !== undefined) {
      report(
        ['image', 'pull_policy'],
        'has no meaning for a template:<name> image (nothing is pulled): remove it',
      );
    }
    checkEndpoints(svc, report);
    checkScale(svc, report);
    checkHealth(svc, report);
    checkInit(svc, report);
    checkDepends(name, svc, spec, report);
  }
  checkPublicPorts(spec, issues, source);
  const cycle = findCycle(spec);
  if (cycle)
    issues.push(
      issueAt(source, cycle.path, `dependencies go round in a cycle: ${cycle.names.join(' → ')}`),
    );
  if (issues.length > 0) {
    throw new DeploymentSpecError(
      source.file,
      issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity)),
    );
  }
}
