/** The OpenAPI document as a server serves it (an in-memory store, a loopback port, closed after): what the generated API reference is made from. */
import { openStore } from '../store/index.js';
import { startServer } from '../server.js';
import type { OpenApiDocument } from './reference.js';

/** Starts a server on an in-memory store, reads its `/openapi.json`, stops it. */
export async function liveOpenApi(): Promise<OpenApiDocument> {
  const store = await openStore({ backend: 'sqlite', path: ':memory:' });
  const server = await startServer({ store, config: { port: 0 } });
  try {
    return (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDocument;
  } finally {
    await server.close();
    await store.close();
  }
}
