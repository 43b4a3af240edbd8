/** State predicates, switched with exhaustiveness checks so a new state cannot be forgotten. */
import { assertNever } from '@tartarus/core';
import type { RunState, SandboxState } from './types.js';

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

/** Run states that are neither waiting nor final: an agent holds a lease. */
export const LEASED_STATES = ['leased', 'running'] as const satisfies readonly RunState[];
/** Run states that are not final. */
export const ACTIVE_RUN_STATES = [
  'queued',
  'leased',
  'running',
] as const satisfies readonly RunState[];

/** Sandbox states that count against a tenant's concurrency and live on a node. */
export const LIVE_SANDBOX_STATES = [
  'requested',
  'running',
  'paused',
] as const satisfies readonly SandboxState[];

/**
 * Allowed sandbox transitions. `lost` is not final: when a node comes back and reports the
 * sandbox in its inventory, the server may adopt it (→ running) or kill it.
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
