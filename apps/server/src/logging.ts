/**
 * The server's structured log: JSON lines (pino) on stderr, one per control-plane event, each
 * carrying the ids that matter — tenant, run or sandbox, node, request — so that one grep over a
 * run's id tells its whole story across server replicas. The level is configuration
 * (`logLevel`: fatal, error, warn, info, debug, trace or silent).
 */
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import { z } from 'zod';

/** Log levels, most severe first; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** A level as configuration gives it. */
export const LogLevelSchema = z.enum(LOG_LEVELS, { error: `logLevel must be one of ${LOG_LEVELS.join(', ')}` });

/** A JSON-lines logger at `level`, to `destination` (default stderr). */
export function createLogger(level: LogLevel, destination: DestinationStream = pino.destination(2)): Pino {
  return pino({ level, base: { service: 'tartarus-server' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
