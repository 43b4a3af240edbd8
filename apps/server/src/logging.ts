/**
 * The server's structured log: JSON lines (pino) on stderr, one per control-plane event, each
 * carrying the ids that matter — tenant, run or sandbox, node, request — so that one grep over a
 * run's id tells its whole story across server replicas. The level is configuration
 * (`logLevel`: fatal, error, warn, info, debug, trace or silent).
 */
import { pino, type DestinationStream, type Logger as Pino, type MultiStreamRes } from 'pino';
import { z } from 'zod';

/** Log levels, most severe first; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** A level as configuration gives it. */
export const LogLevelSchema = z.enum(LOG_LEVELS, { error: `logLevel must be one of ${LOG_LEVELS.join(', ')}` });

/** The destinations of each logger `createLogger` made, to which `addLogDestination` adds. */
const destinations = new WeakMap<object, MultiStreamRes<string>>();

/**
 * A JSON-lines logger at `level`, to `destination` (default stderr). Its lines go through a
 * pino multistream, so that the server can add a destination later (Loki: `logs/`).
 */
export function createLogger(level: LogLevel, destination: DestinationStream = pino.destination(2)): Pino {
  const streams = pino.multistream([{ level: 'trace', stream: destination }]);
  const logger = pino({ level, base: { service: 'tartarus-server' }, timestamp: pino.stdTimeFunctions.isoTime }, streams);
  destinations.set(logger, streams);
  return logger;
}

/**
 * Sends every line `logger` writes from now on to `destination` too. Returns its removal, or null
 * when `logger` was not made by `createLogger` (then nothing is added).
 */
export function addLogDestination(logger: object, destination: DestinationStream): (() => void) | null {
  const streams = destinations.get(logger);
  if (streams === undefined) return null;
  streams.add({ level: 'trace', stream: destination });
  const entry = streams.streams.find((s) => s.stream === destination) as { id?: number } | undefined;
  return () => {
    if (entry?.id !== undefined) streams.remove(entry.id);
  };
}
