/**
 * The control plane is never a sandbox's destination: the Runtime of an agent gets the address it
 * connects to (the server URL's host and port, when an IPv4 literal or a name resolving to IPv4)
 * in its network's always-denied list, whatever a sandbox's egress policy says. The host's own
 * addresses are denied by the runtime already; this covers a server on another machine.
 */
import { lookup } from 'node:dns/promises';
import { isIPv4, isIP } from 'node:net';
import type { RuntimeOptions } from '@tartarus/runtime';

/** The network options of a Runtime (`RuntimeOptions.network`). */
export type NetworkOptions = NonNullable<RuntimeOptions['network']>;

/** Resolves a host name to its IPv4 addresses (`dns.lookup`, as the agent's own connection does). */
export type Resolve4 = (host: string) => Promise<string[]>;

const resolve4: Resolve4 = async (host) =>
  (await lookup(host, { all: true, family: 4 })).map((a) => a.address);

/**
 * `ADDRESS:PORT` of every IPv4 address the agent reaches the server at (`ws://`/`http://` port
 * 80 and `wss://`/`https://` 443 unless given); none for an IPv6 server or a name that does not
 * resolve (the agent cannot connect then either).
 */
export async function controlPlaneDeny(
  serverUrl: string,
  resolve: Resolve4 = resolve4,
): Promise<string[]> {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    return [];
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'wss:' || url.protocol === 'https:' ? '443' : '80');
  if (isIPv4(host)) return [`${host}:${port}`];
  if (isIP(host) !== 0) return [];
  const addresses = await resolve(host).catch(() => [] as string[]);
  return [...new Set(addresses)].map((a) => `${a}:${port}`);
}

/** `given` with the control plane's addresses (`controlPlaneDeny`) added to `deny`. */
export async function agentNetworkOptions(
  serverUrl: string,
  given: NetworkOptions = {},
  resolve?: Resolve4,
): Promise<NetworkOptions> {
  const deny = await controlPlaneDeny(serverUrl, resolve);
  return { ...given, deny: [...new Set([...(given.deny ?? []), ...deny])] };
}
