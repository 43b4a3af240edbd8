/**
 * Outbound HTTP of integrations under the same destination rules as webhooks
 * (`webhooks/destination.ts`: only public unicast addresses, unless `webhookAllowedDestinations`
 * opens a range): the address is checked in the connection's own DNS lookup, so the call goes to
 * the address that was checked (a name that resolves differently a moment later changes
 * nothing). undici (the library behind Node's `fetch`) is used for its `connect.lookup` hook,
 * which the built-in `fetch` does not expose.
 */
import { isIP } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { InvalidArgumentError } from '@tartarus/core';
import { guardedLookup, refusal, type DestinationPolicy } from '../webhooks/destination.js';

/** A `fetch` whose connections go only where `policy` allows; redirects are not followed. */
export function guardedFetch(policy: DestinationPolicy): (url: string, init?: RequestInit) => Promise<Response> {
  const dispatcher = new Agent({ connect: { lookup: guardedLookup(policy) } });
  return async (text, init) => {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`${url.href}: only http and https destinations are called`);
    // A literal address never goes through a lookup: it is checked here.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const literal = isIP(host) === 0 ? null : refusal(host, policy);
    if (literal !== null) throw new InvalidArgumentError(`${url.host} is refused (${literal.rule}): ${literal.message}`);
    const res = await undiciFetch(url, { ...(init as object), redirect: 'manual', dispatcher, signal: init?.signal ?? AbortSignal.timeout(10_000) } as Parameters<typeof undiciFetch>[1]);
    return res as unknown as Response;
  };
}
