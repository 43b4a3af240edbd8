/**
 * The log search: what the server keeps of runs' output and sandboxes' lifecycle lines, by run or
 * sandbox, time window and text, a page at a time or every match in turn.
 */
import type { Transport } from './http.js';
import type { LogLine, LogPage, LogSearchQuery } from './types.js';

/** Log search API. */
export class Logs {
  constructor(private readonly transport: Transport) {}

  /**
   * One page of lines (newest first unless `order: 'oldest'`); pass `nextCursor` back as `cursor`
   * for the next (null: no more). `query` is a case-insensitive substring; `from`/`to` ISO times.
   */
  async search(query: LogSearchQuery = {}): Promise<LogPage> {
    return this.transport.json('GET', '/v1/logs', { query: { ...query } });
  }

  /** Every matching line in turn, fetching pages of `limit` (default 100) as it goes. */
  async *all(query: Omit<LogSearchQuery, 'cursor'> = {}): AsyncGenerator<LogLine> {
    let cursor: string | undefined;
    do {
      const page = await this.search({ limit: 100, ...query, ...(cursor === undefined ? {} : { cursor }) });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }
}
