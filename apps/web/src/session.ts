/**
 * The signed-in API key and the SDK client made from it. The key lives in sessionStorage: it
 * survives a reload of the tab, and is gone when the tab closes or the user signs out. The server
 * is the page's own origin (the dashboard is served by the server it talks to).
 */
import { createContext, useContext } from 'react';
import { Tartarus } from '@tartarus/sdk';

const STORAGE_KEY = 'tartarus.apiKey';

/** The stored key, or null when signed out. */
export function storedKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

/** Keeps `key` for this tab. */
export function storeKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

/** Forgets the key (sign out). */
export function clearKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** An SDK client for this page's server with `apiKey`. */
export function clientFor(apiKey: string): Tartarus {
  return new Tartarus({ url: window.location.origin, apiKey });
}

/** The signed-in client; every page below the sign-in gate has one. */
export const ClientContext = createContext<Tartarus | null>(null);

/** The signed-in client (throws outside the gate: a wiring bug, shown by the error boundary). */
export function useClient(): Tartarus {
  const client = useContext(ClientContext);
  if (!client) throw new Error('no client: this page needs a signed-in API key');
  return client;
}
