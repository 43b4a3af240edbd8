/** Snapshots of sandboxes: list, get, delete (take one with `sandbox.snapshot()`, start from one with `create({ snapshot })`). */
import type { Transport } from './http.js';
import type { Snapshot } from './types.js';

/** Snapshots API. */
export class Snapshots {
  constructor(private readonly transport: Transport) {}

  /** The tenant's snapshots, newest first. */
  async list(): Promise<Snapshot[]> {
    return (await this.transport.json<{ items: Snapshot[] }>('GET', '/v1/snapshots')).items;
  }

  async get(id: string): Promise<Snapshot> {
    return this.transport.json('GET', `/v1/snapshots/${encodeURIComponent(id)}`);
  }

  /** Deletes a snapshot (its files too, unless another snapshot has the same). */
  async delete(id: string): Promise<Snapshot> {
    return this.transport.json('DELETE', `/v1/snapshots/${encodeURIComponent(id)}`);
  }
}
