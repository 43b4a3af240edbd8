/**
 * A sandbox, shaped like the SDKs users already know: `Sandbox.create()`, then
 * `sandbox.commands.run()`, `sandbox.files.write()`, `sandbox.kill()`.
 */
import { transportFor, type ConnectionOptions } from './connection.js';
import type { Transport } from './http.js';
import { Commands } from './commands.js';
import { Files } from './files.js';
import { SandboxNotRunningError } from './errors.js';
import type {
  AccessToken,
  Egress,
  PortUrl,
  CreateSandboxRequest,
  ListOptions,
  Page,
  SandboxInfo,
  SandboxStateName,
  Snapshot,
} from './types.js';

/** Options of `Sandbox.create`: what to create (see `CreateSandboxRequest`) plus where. */
export type SandboxCreateOptions = CreateSandboxRequest & ConnectionOptions;

/** A live (or ended) sandbox. */
export class Sandbox {
  /** Commands in this sandbox. */
  readonly commands: Commands;
  /** Files in this sandbox. */
  readonly files: Files;

  /** Use `Sandbox.create` or `Sandbox.connect`. */
  constructor(
    private readonly transport: Transport,
    /** The sandbox as last fetched (refresh with `getInfo()`). */
    public info: SandboxInfo,
  ) {
    this.commands = new Commands(transport, info.id);
    this.files = new Files(transport, info.id);
  }

  /** The sandbox id (`sbx_…`). */
  get id(): string {
    return this.info.id;
  }

  /** Creates a sandbox and resolves when it is running. Defaults: busybox, container, 5 min timeout. */
  static async create(options: SandboxCreateOptions = {}): Promise<Sandbox> {
    const { url, apiKey, fetch, ...request } = options;
    return Sandbox.createWith(transportFor({ url, apiKey, fetch }), request);
  }

  /** Attaches to an existing sandbox by id. */
  static async connect(id: string, options: ConnectionOptions = {}): Promise<Sandbox> {
    return Sandbox.connectWith(transportFor(options), id);
  }

  /** Lists sandboxes, newest first. */
  static async list(
    options: ListOptions & { state?: SandboxStateName } & ConnectionOptions = {},
  ): Promise<Page<SandboxInfo>> {
    const { url, apiKey, fetch, ...query } = options;
    return transportFor({ url, apiKey, fetch }).json('GET', '/v1/sandboxes', { query });
  }

  /** `create` over an existing transport (used by the client). */
  static async createWith(transport: Transport, request: CreateSandboxRequest): Promise<Sandbox> {
    const sandbox = new Sandbox(
      transport,
      await transport.json<SandboxInfo>('POST', '/v1/sandboxes', { body: request }),
    );
    await sandbox.untilStarted();
    return sandbox;
  }

  /** `connect` over an existing transport (used by the client). */
  static async connectWith(transport: Transport, id: string): Promise<Sandbox> {
    return new Sandbox(
      transport,
      await transport.json<SandboxInfo>('GET', `/v1/sandboxes/${encodeURIComponent(id)}`),
    );
  }

  /** Fetches the sandbox's current state. */
  async getInfo(): Promise<SandboxInfo> {
    this.info = await this.transport.json<SandboxInfo>('GET', this.path());
    return this.info;
  }

  /** Sets the timeout to `timeoutMs` from now (1 s..24 h). */
  async setTimeout(timeoutMs: number): Promise<SandboxInfo> {
    return this.update('POST', '/timeout', { timeoutMs });
  }

  /** Freezes every process of the sandbox. */
  async pause(): Promise<SandboxInfo> {
    return this.update('POST', '/pause');
  }

  /** Thaws a paused sandbox. */
  async resume(): Promise<SandboxInfo> {
    return this.update('POST', '/resume');
  }

  /**
   * Saves the sandbox's memory and frees it (microvm sandboxes; a 409 for another runtime or while
   * a command runs). The next exec, file call or proxied connection wakes it where it was; so does
   * `wake()`. `info.hibernatedAt` says when it went to sleep.
   */
  async hibernate(): Promise<SandboxInfo> {
    return this.update('POST', '/hibernate');
  }

  /** Starts a hibernated sandbox again where it was (any call to it does that too). */
  async wake(): Promise<SandboxInfo> {
    return this.update('POST', '/wake');
  }

  /**
   * The URL of `port` of this sandbox through the server's proxy (HTTP, WebSocket, server-sent
   * events): host-based (`https://PORT-ID.<domain>/`) when the server has a proxy domain, else
   * path-based (`<server>/v1/sandboxes/ID/ports/PORT/`). Reaching it needs the API key, an access
   * token (`createAccessToken`), or a sandbox created with `public: true`.
   */
  async getHost(port: number): Promise<string> {
    const u = await this.transport.json<PortUrl>('GET', `${this.path()}/urls/${port}`);
    return u.hostUrl ?? u.url;
  }

  /** A token that reaches this sandbox's ports until it expires (default 1 h, at most 7 days): send it as `X-Tartarus-Access-Token` or `?tt_token=`. */
  async createAccessToken(options: { ttlMs?: number } = {}): Promise<AccessToken> {
    return this.transport.json<AccessToken>('POST', `${this.path()}/access-tokens`, { body: options });
  }

  /**
   * Replaces what the sandbox may reach: `none`, `all`, or an allow list (IPv4, CIDR or DNS name,
   * each with an optional `:port`). Open connections are held to the new policy at once.
   * `ConflictError` for a sandbox created with egress `none` (it has no network interface),
   * `InvalidArgumentError` for a bad entry or one beyond the tenant's `maxEgress`.
   */
  async setEgress(egress: Egress): Promise<SandboxInfo> {
    return this.update('PUT', '/egress', { egress });
  }

  /** Kills the sandbox and removes its writable layer. Idempotent. */
  async kill(): Promise<void> {
    const info = await this.transport.json<SandboxInfo | undefined>('DELETE', this.path());
    if (info) this.info = info;
  }

  /**
   * Ends the sandbox gracefully: SIGTERM to its workload, SIGKILL to what is left `graceMs` later
   * (default 10 s), with `reason` recorded in its exit. With `delayMs` it begins that much later
   * and is pending until then (`info.termination`; `cancelTermination()` calls it off); without,
   * it resolves once the sandbox has ended. With `snapshot: true` its files are kept as a snapshot
   * just before the end (`info.finalSnapshotId`; `Sandbox.create({ snapshot })` resumes from it).
   */
  async terminate(options: { delayMs?: number; graceMs?: number; reason?: string; snapshot?: boolean } = {}): Promise<SandboxInfo> {
    return this.update('POST', '/terminate', options);
  }

  /**
   * Keeps the sandbox's files as a snapshot (on its node; files only: processes are not kept).
   * `Sandbox.create({ snapshot: id })` starts new sandboxes from it.
   */
  async snapshot(options: { memory?: boolean } = {}): Promise<Snapshot> {
    return this.transport.json<Snapshot>('POST', `${this.path()}/snapshots`, { body: { memory: options.memory === true } });
  }

  /**
   * `count` new sandboxes (default 1), each starting from this one's files as they are now (with
   * `memory`, its memory and processes too), independent of it and of one another.
   */
  async fork(count = 1, options: { memory?: boolean } = {}): Promise<Sandbox[]> {
    const r = await this.transport.json<{ sandboxes: SandboxInfo[] }>('POST', `${this.path()}/fork`, { body: { count, ...(options.memory ? { memory: true } : {}) } });
    return r.sandboxes.map((info) => new Sandbox(this.transport, info));
  }

  /** Cancels a pending termination; `ConflictError` when none is pending. */
  async cancelTermination(): Promise<SandboxInfo> {
    return this.update('DELETE', '/terminate');
  }

  /** Waits while the sandbox is `requested` (queued for a node), polling with backoff; then throws if it did not start. */
  private async untilStarted(): Promise<void> {
    let delayMs = 20;
    while (this.info.state === 'requested') {
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(500, delayMs * 2);
      await this.getInfo();
    }
    if (
      this.info.state === 'error' ||
      this.info.state === 'exited' ||
      this.info.state === 'killed'
    ) {
      const why = this.info.exit?.message ?? this.info.exit?.reason ?? this.info.state;
      throw new SandboxNotRunningError(`sandbox ${this.id} did not start: ${why}`, {
        context: { id: this.id },
      });
    }
  }

  private async update(method: string, suffix: string, body?: unknown): Promise<SandboxInfo> {
    const info = await this.transport.json<SandboxInfo | undefined>(method, this.path() + suffix, {
      body,
    });
    return info ? (this.info = info) : this.getInfo();
  }

  private path(): string {
    return `/v1/sandboxes/${encodeURIComponent(this.id)}`;
  }
}
