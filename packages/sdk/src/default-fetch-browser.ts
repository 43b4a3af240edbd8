/** In a browser a client sends with the global fetch (see `default-fetch.ts`). */
import type { FetchLike } from './http.js';

export const defaultFetch: FetchLike | undefined = undefined;
