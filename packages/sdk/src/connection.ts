/** Connection options shared by the client and the static `Sandbox` helpers. */
import { createTransport, type FetchLike, type Transport } from './http.js';

/** Where the server is and how to authenticate. */
export interface ConnectionOptions {
  /**
   * Base URL of the server. Default: `TARTARUS_URL`, else `http://127.0.0.1:7070` (the `tartarus up`
   * default). In a browser (no environment) pass it, e.g. `location.origin`.
   */
  url?: string | undefined;
  /** API key sent as `Authorization: Bearer`. Default: `TARTARUS_API_KEY`. */
  apiKey?: string | undefined;
  /** How requests are sent. Default: `node:http` in Node, the global `fetch` in a browser. */
  fetch?: FetchLike | undefined;
}

/** The default server URL: what `tartarus up` listens on. */
export const DEFAULT_URL = 'http://127.0.0.1:7070';

/** An environment variable, or undefined where there is no `process` (a browser). */
function env(name: string): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env?.[name];
}

/** Resolves the options (once) into a transport. */
export function transportFor(options: ConnectionOptions = {}): Transport {
  const url = options.url ?? env('TARTARUS_URL') ?? DEFAULT_URL;
  const apiKey = options.apiKey ?? (env('TARTARUS_API_KEY') || undefined);
  return createTransport(url, apiKey, options.fetch);
}

/**
 * A transport that resolves the environment (`TARTARUS_URL`, `TARTARUS_API_KEY`) on its first
 * call rather than at import, for the module-level `runs` helper.
 */
export function envTransport(): Transport {
  let resolved: Transport | undefined;
  const get = (): Transport => (resolved ??= transportFor());
  return {
    get baseUrl() {
      return get().baseUrl;
    },
    send: (method, path, options) => get().send(method, path, options),
    json: (method, path, options) => get().json(method, path, options),
    authHeaders: () => get().authHeaders(),
  };
}
