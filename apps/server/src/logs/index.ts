/**
 * Log shipping, assembled from the server's configuration: without `lokiUrl` nothing ships and
 * nothing is added to any path; with it, a `LokiShipper`, fed by the agent hub (run output), the
 * event sequencer (sandbox lines) and the structured log (a destination added to the server's
 * pino logger, or a logger of its own when the server was given none).
 */
import type { ServerConfig } from '../config.js';
import { silentLogger, type Logger } from '../context.js';
import type { LogShippingMetrics } from '../http/metrics.js';
import { addLogDestination, createLogger } from '../logging.js';
import type { Store } from '../store/index.js';
import { pushTarget } from './loki-push.js';
import { LokiShipper, NO_SHIPPING, type LogShipper } from './shipper.js';
import { controlPlaneDestination, followSandboxLines } from './sources.js';

export { NO_SHIPPING, type LogShipper } from './shipper.js';
export { shipRunOutput } from './sources.js';

/** Log shipping of one server. */
export interface LogShipping {
  shipper: LogShipper;
  /** The logger the server uses: the one it was given (now also shipping), or its own. */
  log: Logger;
  /** Stops following, detaches from the logger, pushes what waits (at most 2 s). */
  close(): Promise<void>;
}

/** Starts shipping as `config` says; `log` is the logger the server was given, if any. */
export function startLogShipping(config: ServerConfig, metrics: LogShippingMetrics, store: Store, log: Logger | undefined): LogShipping {
  if (config.lokiUrl === null) return { shipper: NO_SHIPPING, log: log ?? silentLogger, close: async () => {} };
  // The shipper's own warnings go to the server's log, which exists only once it is wired below.
  let current: Logger = log ?? silentLogger;
  const relay: Logger = {
    info: (o, m) => current.info(o, m),
    warn: (o, m) => current.warn(o, m),
    error: (o, m) => current.error(o, m),
  };
  const shipper = new LokiShipper({
    target: pushTarget(config.lokiUrl, config.lokiHeaders),
    labels: { ids: config.lokiIds, staticLabels: config.lokiLabels },
    batchMs: config.lokiBatchMs,
    batchBytes: config.lokiBatchBytes,
    bufferBytes: config.lokiBufferBytes,
    metrics,
    log: relay,
  });
  const destination = controlPlaneDestination(shipper);
  let detach: (() => void) | null = null;
  if (log === undefined) current = createLogger(config.logLevel, destination);
  else {
    detach = addLogDestination(log, destination);
    if (detach === null) log.warn({}, 'the structured log is not shipped to Loki: give the server a logger made by createLogger');
  }
  const unfollow = followSandboxLines(store, shipper, relay);
  return {
    shipper,
    log: current,
    async close() {
      unfollow();
      detach?.();
      await shipper.close();
    },
  };
}
