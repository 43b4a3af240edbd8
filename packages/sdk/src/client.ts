/**
 * `Tartarus`: one client for one server and key, namespaced by capability
 * (`client.sandboxes`, `client.runs`, `client.templates`, ...).
 */
import { transportFor, type ConnectionOptions } from './connection.js';
import type { Transport } from './http.js';
import { Sandbox } from './sandbox.js';
import { Runs } from './runs.js';
import { ApiKeys, Audit, Nodes, Tenants } from './admin.js';
import { Registries } from './registries.js';
import { NetworkPolicies } from './network-policies.js';
import { Templates } from './templates.js';
import { Usage } from './usage.js';
import { Events } from './events.js';
import { Secrets } from './secrets.js';
import { Webhooks } from './webhooks.js';
import { Integrations } from './integrations.js';
import { Deployments } from './deployments.js';
import { Logs } from './logs.js';
import { Snapshots } from './snapshots.js';
import type {
  CreateSandboxRequest,
  ListOptions,
  Page,
  SandboxInfo,
  SandboxStateName,
} from './types.js';

/** Sandboxes API of a client. */
export class Sandboxes {
  constructor(private readonly transport: Transport) {}

  /** Creates a sandbox and resolves once it is running. */
  async create(request: CreateSandboxRequest = {}): Promise<Sandbox> {
    return Sandbox.createWith(this.transport, request);
  }

  /** Attaches to an existing sandbox. */
  async connect(id: string): Promise<Sandbox> {
    return Sandbox.connectWith(this.transport, id);
  }

  /** One sandbox's current state. */
  async get(id: string): Promise<SandboxInfo> {
    return (await this.connect(id)).info;
  }

  /** Lists sandboxes, newest first. */
  async list(options: ListOptions & { state?: SandboxStateName } = {}): Promise<Page<SandboxInfo>> {
    return this.transport.json('GET', '/v1/sandboxes', { query: { ...options } });
  }
}

/** A client of one Tartarus server. */
export class Tartarus {
  /** The resolved transport (base URL and key). */
  readonly transport: Transport;
  /** Interactive sandboxes. */
  readonly sandboxes: Sandboxes;
  /** Queued runs. */
  readonly runs: Runs;
  /** Templates: built-ins and the tenant's own, from images and Dockerfiles. */
  readonly templates: Templates;
  /** Credentials for private image registries. */
  readonly registries: Registries;
  /** Named egress policies, attached to sandboxes and runs with `networkPolicy`. */
  readonly networkPolicies: NetworkPolicies;
  /** Nodes. */
  readonly nodes: Nodes;
  /** API keys. */
  readonly apiKeys: ApiKeys;
  /** Tenants. */
  readonly tenants: Tenants;
  /** The audit log. */
  readonly audit: Audit;
  /** Usage metering: CPU, memory, sandbox time and egress per day, tenant or runtime. */
  readonly usage: Usage;
  /** The event bus: state changes in order, listed or streamed (resuming by itself). */
  readonly events: Events;
  /** The tenant's secrets (write-only values). */
  readonly secrets: Secrets;
  /** Outbound webhooks: subscriptions, delivery logs, redelivery, pings (admin keys). */
  readonly webhooks: Webhooks;
  /** Integrations (GitHub, Slack, plugins) and the tenant's config of each. */
  readonly integrations: Integrations;
  /** Deployments: services, jobs and cron from a ZLayer V1 spec. */
  readonly deployments: Deployments;
  /** The log search: runs' output and sandboxes' lifecycle lines kept by the server. */
  readonly logs: Logs;
  /** Snapshots of sandboxes (take one with `sandbox.snapshot()`). */
  readonly snapshots: Snapshots;

  /** Defaults: `TARTARUS_URL` / `TARTARUS_API_KEY`, else `http://127.0.0.1:7070` without a key. */
  constructor(options: ConnectionOptions = {}) {
    this.transport = transportFor(options);
    this.sandboxes = new Sandboxes(this.transport);
    this.runs = new Runs(this.transport);
    this.templates = new Templates(this.transport);
    this.registries = new Registries(this.transport);
    this.networkPolicies = new NetworkPolicies(this.transport);
    this.nodes = new Nodes(this.transport);
    this.apiKeys = new ApiKeys(this.transport);
    this.tenants = new Tenants(this.transport);
    this.audit = new Audit(this.transport);
    this.usage = new Usage(this.transport);
    this.events = new Events(this.transport);
    this.secrets = new Secrets(this.transport);
    this.webhooks = new Webhooks(this.transport);
    this.integrations = new Integrations(this.transport);
    this.deployments = new Deployments(this.transport);
    this.logs = new Logs(this.transport);
    this.snapshots = new Snapshots(this.transport);
  }

  /** Whether the server answers `/healthz` (never throws). */
  async healthy(): Promise<boolean> {
    try {
      await this.transport.send('GET', '/healthz');
      return true;
    } catch {
      return false;
    }
  }
}
