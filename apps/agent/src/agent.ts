/**
 * The node agent: connects out to the server (no inbound port), says `hello` with its full
 * inventory on every (re)connect, applies the server's `reconcile`, heartbeats, and serves the
 * server's requests. Reconnects with backoff for as long as it runs. The same code serves the
 * in-process agent of embedded mode and a remote one.
 */
import {
  AGENT_PROTOCOL_VERSION,
  ServerMessageSchema,
  TartarusError,
  type AgentMessage,
  type InventoryItem,
  type ServerMessage,
} from '@tartarus/core';
import type { SandboxInfo } from '@tartarus/runtime';
import { existsSync } from 'node:fs';
import WebSocket from 'ws';
import { parseAgentConfig, type AgentConfig, type AgentConfigInput } from './config.js';
import type { Link } from './link.js';
import { Calls } from './calls.js';
import type { AgentRuntime } from './runtime-port.js';
import { Supervisor } from './supervisor.js';
import { UsageMeters } from './usage-meter.js';
import { AgentMetrics, serveMetrics } from './metrics.js';
import type { Server } from 'node:http';
import { NodeProxy, type NodeProxyAdvert } from './node-proxy.js';

/** Minimal logger. */
export interface AgentLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

const quiet: AgentLogger = { info() {}, warn() {} };

/** Messages kept while disconnected: reports about work. */
const REPORTS = new Set<AgentMessage['type']>(['started', 'output', 'finished', 'failed', 'usage', 'hibernation']);
/** Most reports kept while disconnected (output beyond it is lost; results are retried by lease). */
/** How often the image cache is brought under its budget. */
const IMAGE_GC_INTERVAL_MS = 600_000;
/** What a server that does not say takes: its default (100 MiB files as base64, plus framing). */
const DEFAULT_MAX_MESSAGE_BYTES = 140 * 1024 * 1024;
const MAX_PENDING_REPORTS = 10_000;

/** A running agent. */
export class Agent {
  private readonly config: AgentConfig;
  private socket: WebSocket | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = false;
  private attempt = 0;
  private hostInventory: SandboxInfo[] = [];
  private readonly work: Supervisor;
  private readonly calls: Calls;
  private readonly link: Link = { send: (m) => this.send(m) };
  /** True between the server's `reconcile` and the socket closing. */
  private reconciled = false;
  private readonly pending: AgentMessage[] = [];
  private imageTimer: NodeJS.Timeout | undefined;
  /** Largest message the server accepts (its reconcile says; this default until then). */
  private maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
  private connectedOnce: Promise<void>;
  private markConnected: () => void = () => undefined;

  /** Where the servers' port proxy reaches this node's sandboxes (advertised in hello). */
  private readonly proxy: NodeProxy;
  private proxyAdvert: NodeProxyAdvert | undefined;
  /** The node's own metrics (metrics.ts). */
  readonly metrics: AgentMetrics;
  private metricsServer: Server | undefined;

  constructor(
    config: AgentConfigInput,
    private readonly runtime: AgentRuntime,
    private readonly log: AgentLogger = quiet,
  ) {
    this.config = parseAgentConfig(config);
    // A pool naming an unknown template or runtime is refused now, not logged later.
    runtime.checkPools(this.config.pools);
    this.metrics = new AgentMetrics({
      sandboxes: () => this.work.byRuntime(),
      reserved: () => this.work.used(),
      capacity: { cpu: this.config.cpu, memoryMiB: this.config.memoryMiB },
      connected: () => this.reconciled,
      pendingReports: () => this.pending.length,
    });
    const meters = new UsageMeters(
      (m) => {
        this.metrics.usage(m);
        this.send(m);
      },
      { sampleMs: this.config.usageSampleMs, reportMs: this.config.usageReportMs },
    );
    this.work = new Supervisor(runtime, () => this.link, meters, this.metrics);
    this.calls = new Calls(runtime, this.work);
    this.proxy = new NodeProxy(
      async (sandboxId) => this.work.sandbox(sandboxId).address?.(),
      // A proxied connection keeps the sandbox awake while it is open (and wakes a hibernated one).
      async (sandboxId) => {
        const h = this.work.sandbox(sandboxId);
        const release = h.hold?.() ?? (() => undefined);
        await h.wake?.().catch((err: unknown) => {
          release();
          throw err;
        });
        return release;
      },
    );
    this.connectedOnce = new Promise((resolve) => (this.markConnected = resolve));
  }

  /** Starts connecting; resolves once the first reconcile is applied (then the warm pools start filling). */
  async start(): Promise<void> {
    // The node proxy first: its address and secret go in every hello.
    this.proxyAdvert = await this.proxy.start(this.config.proxyListen, this.config.proxyAdvertiseHost);
    if (this.config.metricsListen !== undefined) this.metricsServer = await serveMetrics(this.config.metricsListen, this.metrics.registry);
    this.connect();
    await this.connectedOnce;
    this.collectImagesEvery(IMAGE_GC_INTERVAL_MS);
    if (this.config.pools.length === 0) return;
    this.runtime.startPools(this.config.pools).catch((err: Error) => this.log.warn({ err: err.message }, 'warm pools did not start'));
  }

  /** Resolves once the sandboxes this agent is destroying now are gone (at most `timeoutMs`); call after `close()` before releasing the runtime. */
  settle(timeoutMs = 10_000): Promise<void> {
    return this.work.settled(timeoutMs);
  }

  /** Releases what the runtime keeps ahead of need: the warm pools' idle sandboxes (they hold nothing of anyone's) and waiting runtime processes. */
  release(): Promise<void> {
    return this.runtime.release();
  }

  /** Keeps the image cache under its budget: a collection now and every `everyMs` (never two at once). */
  private collectImagesEvery(everyMs: number): void {
    const budgetBytes = this.config.imageBudgetMiB * 1_048_576;
    if (budgetBytes === 0) return;
    let running = false;
    const collect = (): void => {
      if (running || this.stopped) return;
      running = true;
      this.runtime
        .collectImages(budgetBytes)
        .then((c) => c.removed.length > 0 && this.log.info({ removed: c.removed, freedBytes: c.freedBytes }, 'images collected'))
        .catch((err: Error) => this.log.warn({ err: err.message }, 'image collection failed'))
        .finally(() => (running = false));
    };
    collect();
    this.imageTimer = setInterval(collect, everyMs);
    this.imageTimer.unref();
  }

  /** Stops: closes the socket and timers. Sandboxes keep running (the next start re-adopts them). */
  close(): void {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearInterval(this.imageTimer);
    this.proxy.close();
    this.metricsServer?.close();
    this.work.detach();
    this.socket?.close(1000, 'agent stopping');
  }

  private send(m: AgentMessage): void {
    const report = REPORTS.has(m.type);
    if (this.socket?.readyState === WebSocket.OPEN && (this.reconciled || !report)) {
      let text = JSON.stringify(m);
      // An answer larger than the server takes would close the link, and with it every other
      // request on this node: it is replaced by an error that says so.
      if (m.type === 'reply' && text.length * 3 > this.maxMessageBytes && Buffer.byteLength(text) > this.maxMessageBytes) {
        text = JSON.stringify({
          type: 'reply',
          requestId: m.requestId,
          ok: false,
          error: { code: 'payload_too_large', message: `the answer is ${Buffer.byteLength(text)} bytes, more than the ${this.maxMessageBytes} the link to the server carries: ask for less (read big files in parts with exec)` },
        } satisfies AgentMessage);
      }
      this.socket.send(text);
      return;
    }
    // Reports made while disconnected (or before the reconcile) wait for it, bounded: the server
    // commits those of attempts it kept and ignores the rest by epoch. Other messages (hello,
    // replies, heartbeats) go out when they can and are worthless later.
    if (report && this.pending.length < MAX_PENDING_REPORTS) this.pending.push(m);
  }

  private flushPending(): void {
    for (const m of this.pending.splice(0)) this.send(m);
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.config.serverUrl, {
      headers: { authorization: `Bearer ${this.config.token}` },
      // File writes arrive whole, as base64.
      maxPayload: 256 * 1024 * 1024,
    });
    this.socket = ws;
    ws.on(
      'open',
      () => void this.hello().catch((err: unknown) => this.log.warn({ err }, 'hello failed')),
    );
    ws.on('message', (raw: Buffer) => this.receive(raw.toString('utf8')));
    ws.on('error', (err) => this.log.warn({ err: err.message }, 'agent socket error'));
    ws.on('close', (code: number, reason: Buffer) => {
      // 1008: the server refused this token for this node id (or revoked it): say why.
      if (code === 1008)
        this.log.warn({ code, reason: reason.toString() }, 'server refused the agent');
      this.reconciled = false;
      clearInterval(this.heartbeat);
      if (this.stopped) return;
      const delay = Math.min(this.config.maxReconnectDelayMs, 200 * 2 ** this.attempt++);
      setTimeout(() => this.connect(), delay).unref();
    });
  }

  private async hello(): Promise<void> {
    this.hostInventory = await this.runtime.list();
    const active = new Map(this.work.active().map((w) => [w.sandboxId, w]));
    const inventory: InventoryItem[] = this.hostInventory.map((s) => {
      const w = active.get(s.id);
      return {
        sandboxId: s.id,
        state: s.state,
        ...(w ? { workId: w.workId, epoch: w.epoch } : {}),
      };
    });
    const hello: AgentMessage = {
      type: 'hello',
      protocolVersion: AGENT_PROTOCOL_VERSION,
      nodeId: this.config.nodeId,
      name: this.config.name,
      runtimes: await this.runtime.availableRuntimes(),
      capacity: {
        cpu: this.config.cpu,
        memoryMiB: this.config.memoryMiB,
        diskMiB: this.config.diskMiB,
        slots: this.config.slots,
      },
      labels: this.config.labels,
      capabilities: { kvm: existsSync('/dev/kvm'), ...(this.proxyAdvert ? { proxy: this.proxyAdvert } : {}) },
      inventory,
    };
    this.send(hello);
  }

  private receive(text: string): void {
    let msg: ServerMessage;
    try {
      msg = ServerMessageSchema.parse(JSON.parse(text));
    } catch (err) {
      this.log.warn({ err: String(err) }, 'bad server message');
      return;
    }
    switch (msg.type) {
      case 'reconcile':
        if (msg.maxMessageBytes !== undefined) this.maxMessageBytes = msg.maxMessageBytes;
        void this.reconcile(msg.keep, msg.heartbeatIntervalMs);
        return;
      case 'start':
        this.work.start(msg);
        return;
      case 'stop':
        this.work.stop(msg.workId, msg.epoch);
        return;
      case 'request':
        this.calls
          .handle(msg.call, (event, data) =>
            this.send({ type: 'event', requestId: msg.requestId, event, data }),
          )
          .then(
          (result) => this.send({ type: 'reply', requestId: msg.requestId, ok: true, result }),
          (err: unknown) =>
            this.send({
              type: 'reply',
              requestId: msg.requestId,
              ok: false,
              error: {
                code: err instanceof TartarusError ? err.code : 'internal',
                message: err instanceof Error ? err.message : String(err),
              },
            }),
        );
        return;
      default: {
        const never: never = msg;
        this.log.warn({ msg: never }, 'unknown server message');
      }
    }
  }

  /** Keeps what the server wants, destroys the rest, then heartbeats. */
  private async reconcile(keep: string[], heartbeatIntervalMs: number): Promise<void> {
    const wanted = new Set(keep);
    // Work the server did not keep is fenced already: stop it.
    for (const w of this.work.active())
      if (!wanted.has(w.sandboxId)) this.work.stop(w.workId, w.epoch);
    for (const info of this.hostInventory) {
      if (this.work.owns(info.id)) continue;
      if (wanted.has(info.id) && (info.state === 'running' || info.state === 'paused')) {
        await this.work
          .adopt(info)
          .catch((err: unknown) =>
            this.log.warn({ err: String(err), id: info.id }, 'adopt failed'),
          );
      } else {
        await this.runtime
          .destroy(info)
          .catch((err: unknown) =>
            this.log.warn({ err: String(err), id: info.id }, 'destroy failed'),
          );
      }
    }
    this.attempt = 0;
    this.reconciled = true;
    this.flushPending();
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.beat(), heartbeatIntervalMs);
    this.heartbeat.unref();
    this.beat();
    this.markConnected();
  }

  private beat(): void {
    this.send({
      type: 'heartbeat',
      used: this.work.used(),
      work: this.work.active().map(({ workId, epoch }) => ({ workId, epoch })),
    });
  }
}
