/** A run's phases in order, with the names people see (`tartarus runs get`, the dashboard's timeline); zod-free, for the CLI and the browser. */

/** The fields of a run's `phases`. */
export type RunPhaseKey = 'queuedAt' | 'placedAt' | 'templateReadyAt' | 'startedAt' | 'firstOutputAt' | 'exitedAt' | 'cleanedUpAt';

/** Each phase's field and name, in the order they happen. */
export const RUN_PHASES: readonly (readonly [RunPhaseKey, string])[] = [
  ['queuedAt', 'queued'],
  ['placedAt', 'placed'],
  ['templateReadyAt', 'template ready'],
  ['startedAt', 'started'],
  ['firstOutputAt', 'first output'],
  ['exitedAt', 'exited'],
  ['cleanedUpAt', 'cleaned up'],
];
