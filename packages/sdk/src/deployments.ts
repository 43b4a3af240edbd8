/** Deployments: services, jobs and cron from a ZLayer V1 spec, their runs, scaling and triggers. */
import type { Transport } from './http.js';
import { followEvents } from './events.js';
import type { Deployment, DeploymentRun, Event, EventPage, ExecResult, TriggerResult } from './types.js';

/** Where a spec came from and the deploying environment's `$E:` values. */
export interface ApplyOptions {
  /** Values of the spec's `$E:NAME`s. Default: none (a `$E:` then fails naming it). */
  env?: Record<string, string>;
  /** The file's name, for messages. */
  file?: string;
}

/** The names of the `$E:NAME` values a spec uses (to send them from the deploying environment). */
export function envNamesOf(spec: string): string[] {
  return [...new Set([...spec.matchAll(/\$E:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? ''))];
}

/** What `deployments.events` and `deployments.followEvents` give: after `after` (an event id), of `types` (`deployment.*`). */
export interface DeploymentEventOptions {
  after?: string | undefined;
  types?: readonly string[] | undefined;
}

/** A command for `deployments.exec`: a string runs with the shell, an array is an argv. */
export interface DeploymentExecOptions {
  /** A replica's run id (`runs(name)`); default one running replica of the service. */
  replica?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Kill the command after this many ms; 0 for none. Server default 60 000. */
  timeoutMs?: number;
  /** Text written to stdin, then closed (at most 1 MiB). */
  stdin?: string;
}

/** Deployments API. */
export class Deployments {
  constructor(private readonly transport: Transport) {}

  /** Deploys a spec (YAML or JSON text): a new deployment, or a new revision of one. */
  async apply(spec: string, options: ApplyOptions = {}): Promise<Deployment> {
    return this.transport.json('POST', '/v1/deployments', { body: { spec, env: options.env ?? {}, file: options.file ?? 'spec' } });
  }

  /** Checks a spec without deploying it: its compiled plan, or an `InvalidArgumentError` naming the field and line. */
  async validate(spec: string, options: ApplyOptions = {}): Promise<Record<string, unknown>> {
    return this.transport.json('POST', '/v1/deployments/validate', { body: { spec, env: options.env ?? {}, file: options.file ?? 'spec' } });
  }

  async list(): Promise<Deployment[]> {
    return (await this.transport.json<{ items: Deployment[] }>('GET', '/v1/deployments')).items;
  }

  async get(name: string): Promise<Deployment> {
    return this.transport.json('GET', `/v1/deployments/${encodeURIComponent(name)}`);
  }

  /** Its runs, newest first (`live`: only those not ended). */
  async runs(name: string, options: { service?: string; live?: boolean } = {}): Promise<DeploymentRun[]> {
    return (await this.transport.json<{ items: DeploymentRun[] }>('GET', `/v1/deployments/${encodeURIComponent(name)}/runs`, { query: { service: options.service, live: options.live } })).items;
  }

  async scale(name: string, service: string, replicas: number): Promise<Deployment> {
    return this.transport.json('POST', `/v1/deployments/${encodeURIComponent(name)}/services/${encodeURIComponent(service)}/scale`, { body: { replicas } });
  }

  /** Runs a job once; by default waits for its result and output. */
  async trigger(name: string, service: string, options: { wait?: boolean } = {}): Promise<TriggerResult> {
    return this.transport.json('POST', `/v1/deployments/${encodeURIComponent(name)}/services/${encodeURIComponent(service)}/trigger`, { query: { wait: options.wait === false ? 'false' : 'true' } });
  }

  /** Stops a deployment, or one service of it (scaled to 0). */
  async stop(name: string, options: { service?: string } = {}): Promise<Deployment> {
    return this.transport.json('POST', `/v1/deployments/${encodeURIComponent(name)}/stop`, { query: { service: options.service } });
  }

  /** One page of the deployment's events, oldest first (after `after`); pass `nextAfter` back as `after`. */
  async events(name: string, options: DeploymentEventOptions & { limit?: number } = {}): Promise<EventPage> {
    return this.transport.json('GET', `/v1/deployments/${encodeURIComponent(name)}/events`, { query: { after: options.after, types: options.types?.join(','), limit: options.limit } });
  }

  /** The deployment's events as they happen (after `after`, else from now) until `signal` aborts; reconnects by itself without missing any. */
  followEvents(name: string, options: DeploymentEventOptions & { signal?: AbortSignal } = {}): AsyncGenerator<Event> {
    return followEvents(this.transport, `/v1/deployments/${encodeURIComponent(name)}/events`, { types: options.types?.join(',') }, options.after, options.signal);
  }

  /** Runs a command in a replica of `service` and returns its output and exit code (a non-zero exit is data). */
  async exec(name: string, service: string, cmd: string | string[], options: DeploymentExecOptions = {}): Promise<ExecResult> {
    const body = { ...(typeof cmd === 'string' ? { command: cmd } : { argv: cmd }), ...options };
    return this.transport.json('POST', `/v1/deployments/${encodeURIComponent(name)}/services/${encodeURIComponent(service)}/exec`, { body });
  }

  /** Removes a stopped deployment. */
  async remove(name: string): Promise<void> {
    await this.transport.send('DELETE', `/v1/deployments/${encodeURIComponent(name)}`);
  }
}
