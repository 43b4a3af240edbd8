/**
 * The transport a client uses when none is given: `node:http` in Node (`http-node.ts`). The
 * package's `browser` field maps this module to `default-fetch-browser.ts` (the global fetch), so
 * a bundler targeting browsers never sees `node:http`.
 */
import type { FetchLike } from './http.js';
import { httpFetch } from './http-node.js';

export const defaultFetch: FetchLike | undefined = httpFetch;
