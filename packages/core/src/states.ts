/**
 * The one vocabulary of states, roles and end reasons, with the predicates over them ("final",
 * "live") defined once. The API schemas, the store, the scheduler and the CLI all take these; a
 * new state is added here and every exhaustive switch that must handle it stops compiling.
 */
import { assertNever } from './errors.js';

/** Run states. Final: succeeded, failed, cancelled, dead (dead-lettered after maxAttempts). */
export const RUN_STATES = [
  'queued',
  'leased',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'dead',
] as const;
/** A run's state. */
export type RunState = (typeof RUN_STATES)[number];

/** A run in a final state never changes again. */
export function isFinalRun(state: RunState): boolean {
  switch (state) {
    case 'queued':
    case 'leased':
    case 'running':
      return false;
    case 'succeeded':
    case 'failed':
    case 'cancelled':
    case 'dead':
      return true;
    default:
      return assertNever(state, 'run state');
  }
}

/** Run states in which a node holds a lease. */
export const LEASED_RUN_STATES = ['leased', 'running'] as const satisfies readonly RunState[];
/** Run states that are not final. */
export const ACTIVE_RUN_STATES = RUN_STATES.filter((s) => !isFinalRun(s));

/** Why an attempt (and so maybe its run) ended. */
export const RUN_END_REASONS = [
  'exit', // the command exited on its own; see exitCode
  'timeout', // the run's wall-clock timeout killed it
  'oom', // killed by the memory limit
  'cancelled', // a user cancelled the run
  'lease_expired', // the agent did not confirm the start in time (visibility timeout)
  'heartbeat_missed', // the agent stopped extending the lease of a running attempt
  'node_lost', // the node was marked down
  'start_failed', // the agent could not create the sandbox
  'error', // any other failure; see message
] as const;
/** Why an attempt ended. */
export type RunEndReason = (typeof RUN_END_REASONS)[number];

/**
 * Sandbox states. `requested`: accepted, waiting for a node or starting on one. Ended: exited,
 * killed, error. `lost`: its node vanished; it may come back when the node reconnects.
 */
export const SANDBOX_STATES = [
  'requested',
  'running',
  'paused',
  'exited',
  'killed',
  'lost',
  'error',
] as const;
/** A sandbox's state. */
export type SandboxState = (typeof SANDBOX_STATES)[number];

/**
 * Allowed sandbox transitions. `lost` is not final: when a node comes back and reports the
 * sandbox in its inventory, the server may adopt it (→ running or paused) or kill it.
 */
export function sandboxTransitions(from: SandboxState): readonly SandboxState[] {
  switch (from) {
    case 'requested':
      return ['running', 'exited', 'killed', 'lost', 'error'];
    case 'running':
      return ['paused', 'exited', 'killed', 'lost', 'error'];
    case 'paused':
      return ['running', 'exited', 'killed', 'lost', 'error'];
    case 'lost':
      return ['running', 'paused', 'exited', 'killed', 'error'];
    case 'exited':
    case 'killed':
    case 'error':
      return [];
    default:
      return assertNever(from, 'sandbox state');
  }
}

/** A sandbox that has ended (no transition out). */
export function isEndedSandbox(state: SandboxState): boolean {
  return sandboxTransitions(state).length === 0;
}

/** Sandbox states that count against a tenant's concurrency and hold (or await) a node. */
export const LIVE_SANDBOX_STATES = [
  'requested',
  'running',
  'paused',
] as const satisfies readonly SandboxState[];

/** A sandbox that is live (requested, running or paused): not ended and not lost. */
export function isLiveSandbox(state: SandboxState): boolean {
  return (LIVE_SANDBOX_STATES as readonly SandboxState[]).includes(state);
}

/** Roles of an API key: `admin` manages keys and tenants, `member` runs work, `viewer` reads. */
export const ROLES = ['admin', 'member', 'viewer'] as const;

/** The isolation backends, by their API names. */
export const RUNTIME_NAMES = ['container', 'gvisor', 'microvm'] as const;
/** A role. */
export type Role = (typeof ROLES)[number];

/** Liveness of a node, from its heartbeats. */
export const NODE_STATUSES = ['up', 'down'] as const;
/** A node's liveness. */
export type NodeStatus = (typeof NODE_STATUSES)[number];
