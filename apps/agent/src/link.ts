/** The agent's outgoing side of the protocol: typed sends that are dropped while disconnected. */
import type { AgentMessage } from '@tartarus/core';

/** Sends agent → server messages. */
export interface Link {
  send(message: AgentMessage): void;
}
