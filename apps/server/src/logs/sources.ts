/**
 * What the server ships, and where each line comes from:
 *
 * - **run output** (`shipRunOutput`, called by the agent hub after the store took a chunk): one
 *   line per line of output, labelled with the run's tenant, run, node and stream;
 * - **sandbox lines** (`followSandboxLines`): a sandbox's lifecycle — created, started on a node,
 *   ended with its reason and exit code — from its `sandbox.*` events, shipped by the replica that
 *   numbered them (so once across replicas), as `sandbox.ended {"state":"killed",…}`: the same
 *   line `GET /v1/logs` shows. An exec's output is not a sandbox line: it belongs to its caller,
 *   who received it, and may be any size (an interactive shell);
 * - **the structured log** (`controlPlaneDestination`, a pino destination): each JSON line as
 *   written, labelled with its level and the ids it carries.
 */
import { EVENT_TYPES, type EventType } from '@tartarus/core';
import type { DestinationStream } from 'pino';
import type { Logger } from '../context.js';
import type { StoredEvent } from '../store/events.js';
import type { Store } from '../store/index.js';
import { linesOf, type LineOrigin } from './loki-push.js';
import type { LogShipper } from './shipper.js';

/** Ships chunks of a run's output, one line each, in order. */
export function shipRunOutput(
  shipper: LogShipper,
  run: { tenant: string | undefined; run: string; node: string },
  chunks: readonly { stream: 'stdout' | 'stderr'; data: string; timeMs: number }[],
): void {
  for (const c of chunks) {
    const origin: LineOrigin = { source: 'run', ...run, stream: c.stream };
    for (const line of linesOf(c.data)) shipper.push(origin, c.timeMs, line);
  }
}

/** A sandbox event as a line: its type and its data (`sandbox.started {"state":"running",…}`). */
export function sandboxLine(e: Pick<StoredEvent, 'type' | 'data'>): string {
  return `${e.type} ${JSON.stringify(e.data)}`;
}

/** The event types that are sandbox lines. */
export const SANDBOX_EVENT_TYPES: readonly EventType[] = EVENT_TYPES.filter((t) => t.startsWith('sandbox.'));

/** Sandboxes whose node is remembered (an `ended` event does not name it), at most. */
const MAX_NODES = 100_000;

/**
 * Ships the sandbox events this store numbers, in order, as they are numbered. Returns the
 * unsubscription.
 */
export function followSandboxLines(store: Store, shipper: LogShipper, log: Logger): () => void {
  const nodes = new Map<string, string>();
  let chain = Promise.resolve();
  const ship = async (first: number, last: number): Promise<void> => {
    const events = await store.events.list({ after: first - 1, types: SANDBOX_EVENT_TYPES, limit: last - first + 1 });
    for (const e of events) {
      if (e.seq > last) break;
      const named = typeof e.data['nodeId'] === 'string' ? e.data['nodeId'] : undefined;
      if (named !== undefined && nodes.size < MAX_NODES) nodes.set(e.objectId, named);
      const node = named ?? nodes.get(e.objectId);
      if (e.type === 'sandbox.ended') nodes.delete(e.objectId);
      shipper.push({ source: 'sandbox', tenant: e.tenantId, sandbox: e.objectId, node }, e.at, sandboxLine(e));
    }
  };
  return store.events.onSequenced((first, last) => {
    // One pass after another, so that lines leave in the bus's order.
    chain = chain.then(() => ship(first, last)).catch((err: unknown) => log.warn({ err, first, last }, 'sandbox lines not shipped'));
  });
}

/** pino hands a destination marked so the level and object of each line (pino's `metadata`). */
const PINO_METADATA = Symbol.for('pino.metadata');
/** pino's numeric levels by name. */
const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** A string field of a log line's object, if it is one. */
function text(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The labels of a structured log line: its level and the ids it carries (`workId` by its prefix). */
export function serverOrigin(level: number, fields: Record<string, unknown>): LineOrigin {
  const work = text(fields, 'workId');
  return {
    source: 'server',
    level: LEVEL_NAMES[level] ?? String(level),
    tenant: text(fields, 'tenantId'),
    run: text(fields, 'runId') ?? (work?.startsWith('run_') ? work : undefined),
    sandbox: text(fields, 'sandboxId') ?? (work?.startsWith('sbx_') ? work : undefined),
    node: text(fields, 'nodeId'),
  };
}

/** The structured log's destination that ships each line as written. */
export function controlPlaneDestination(shipper: LogShipper): DestinationStream {
  const dest = {
    [PINO_METADATA]: true,
    lastLevel: undefined as unknown,
    lastObj: undefined as unknown,
    write(data: string): void {
      const line = data.endsWith('\n') ? data.slice(0, -1) : data;
      let level = dest.lastLevel;
      let fields = dest.lastObj;
      if (typeof level !== 'number' || typeof fields !== 'object' || fields === null) {
        // Not written through pino's metadata (a line from elsewhere): read it.
        try {
          fields = JSON.parse(line) as unknown;
        } catch {
          fields = {};
        }
        if (typeof fields !== 'object' || fields === null) fields = {};
        level = (fields as { level?: unknown }).level;
      }
      shipper.push(serverOrigin(typeof level === 'number' ? level : 30, fields as Record<string, unknown>), Date.now(), line);
    },
  };
  return dest;
}
