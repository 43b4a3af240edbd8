/**
 * The event bus across server replicas: every event a replica's bus emits (a run or sandbox
 * changed, work to schedule, nodes cordoned, events committed, a sandbox failed to start) is
 * published on one Redis channel, and each other replica emits it on its own bus. Events only say
 * "look again" (context.ts): one lost while Redis is down costs a poll interval, never a result —
 * every waiter also re-reads the store on a timer.
 */
import type { EventBus } from '../context.js';
import type { RedisLink } from './redis.js';

const CHANNEL = 'tartarus:bus';

/** Events that make sense on another replica (listener bookkeeping events do not). */
const RELAYED = /^(run:|sandbox:|sandboxFailed:|schedule$|nodes$|events$)/;

interface Wire {
  from: string;
  event: string;
  args: unknown[];
}

/** Joins `bus` to the other replicas' buses through `redis`; returns the function that leaves. */
export function relayBus(bus: EventBus, redis: RedisLink, replicaId: string): () => void {
  redis.subscribe(CHANNEL, (message) => {
    let wire: Wire;
    try {
      wire = JSON.parse(message) as Wire;
    } catch {
      return;
    }
    if (wire.from === replicaId || typeof wire.event !== 'string' || !RELAYED.test(wire.event) || !Array.isArray(wire.args)) return;
    bus.received(wire.event, wire.args);
  });
  bus.relayTo((event, args) => {
    if (RELAYED.test(event)) void redis.publish(CHANNEL, JSON.stringify({ from: replicaId, event, args } satisfies Wire));
  });
  return () => bus.relayTo(undefined);
}
