/**
 * `tartarus agent`: the agent of one node of distributed mode, in the foreground: the agent's own
 * entry (`node apps/agent/dist/main.js`) in this process, its settings from these flags over
 * `TARTARUS_*` variables. It runs the node's sandboxes, so it runs as root. It dials out to the
 * servers (through their load balancer) and keeps reconnecting; sandboxes outlive a restart and
 * are adopted again by the next start.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { runEntry } from './entry.js';

interface AgentOptions {
  server?: string;
  token?: string;
  nodeId?: string;
  stateDir?: string;
}

/** The agent endpoint `TARTARUS_SERVER_URL` wants, `ws(s)://…/v1/agent/connect`, from the servers' http(s):// address (or that endpoint itself). */
export function agentConnectUrl(server: string): string {
  const schemes: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server "${server}" is not a URL: give the servers' address, e.g. http://tartarus.internal:7070`);
  }
  const scheme = schemes[url.protocol];
  if (scheme === undefined) throw new UsageError(`--server "${server}" must start with http://, https://, ws:// or wss://`);
  url.protocol = scheme;
  if (!url.pathname.endsWith('/v1/agent/connect')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/agent/connect`;
  return url.href;
}

/** Builds `tartarus agent`. */
export function agentCommand(): Command {
  return new Command('agent')
    .description("run this node's agent in the foreground: it connects to the servers and runs the sandboxes they place here (as root)")
    .option('--server <url>', "the servers' address, e.g. their load balancer's http://tartarus.internal:7070 (also $TARTARUS_SERVER_URL)")
    .option('--token <token>', "this node's token, from `tartarus nodes token create NODE_ID` (also $TARTARUS_AGENT_TOKEN, which ps does not show)")
    .option('--node-id <id>', 'the node id it connects as, the same across restarts (also $TARTARUS_NODE_ID; default: the host name)')
    .option('--state-dir <dir>', "the node's sandbox state, kept across restarts (also $TARTARUS_STATE_DIR; default /var/lib/tartarus)")
    .addHelpText('after', '\nEvery other setting of the agent is a TARTARUS_* variable (docs/reference/configuration.md), e.g.\nTARTARUS_PROXY_LISTEN=10.0.0.21:7071 so that servers on other machines reach its port proxy.')
    .action(async (o: AgentOptions) => {
      const env = process.env;
      const server = o.server ?? env.TARTARUS_SERVER_URL;
      if (!server) throw new UsageError('--server is required (or TARTARUS_SERVER_URL): the servers\' address, e.g. http://tartarus.internal:7070');
      const token = o.token ?? env.TARTARUS_AGENT_TOKEN;
      if (!token) throw new UsageError('--token is required (or TARTARUS_AGENT_TOKEN): make one with `tartarus nodes token create NODE_ID`');
      env.TARTARUS_SERVER_URL = agentConnectUrl(server);
      env.TARTARUS_AGENT_TOKEN = token;
      env.TARTARUS_NODE_ID = o.nodeId ?? (env.TARTARUS_NODE_ID || hostname());
      if (o.stateDir !== undefined) env.TARTARUS_STATE_DIR = resolve(o.stateDir);
      await runEntry('@tartarus/agent', []);
    });
}
