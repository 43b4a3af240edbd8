/** Usage metering: what a tenant's work consumed, summed by day, tenant or runtime. */
import type { Transport } from './http.js';
import type { UsageQuery, UsageReport } from './types.js';

/** Usage API. */
export class Usage {
  constructor(private readonly transport: Transport) {}

  /**
   * The report for a window (default the last 30 days), grouped by `day` (default), `tenant` or
   * `runtime`. Admins of the bootstrap tenant see every tenant (or the one named by `tenant`);
   * everyone else sees their own.
   */
  async get(query: Omit<UsageQuery, 'format'> = {}): Promise<UsageReport> {
    return this.transport.json('GET', '/v1/usage', { query: { ...query } });
  }

  /** The same report as CSV text: a header line, then one line per row. */
  async csv(query: Omit<UsageQuery, 'format'> = {}): Promise<string> {
    const res = await this.transport.send('GET', '/v1/usage', {
      query: { ...query, format: 'csv' },
      headers: { accept: 'text/csv' },
    });
    return res.text();
  }
}
