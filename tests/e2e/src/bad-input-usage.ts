/** Bad-input rows of `GET /v1/usage`: groups, windows, times and another tenant's usage. */
import type { Fixture, Row } from './bad-input-table.js';

/** The usage rows. */
export function usageRows(f: Fixture): Row[] {
  const { admin, otherAdmin } = f;
  const get = (name: string, query: string, says: RegExp, key = admin, expect = 400): Row => ({
    name,
    method: 'GET',
    path: `/v1/usage?${query}`,
    key,
    expect,
    says,
  });
  return [
    get('usage grouped by an unknown group', 'group=week', /group/),
    get('usage from a time that is not ISO 8601', 'from=yesterday', /from/),
    get('usage with from after to', 'from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', /must be before to/),
    get('usage by day over more than a year', 'from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', /at most 366 days/),
    get('usage in an unknown format', 'format=xml', /format/),
    get('usage with an unknown parameter', 'tenants=x', /tenants/),
    get("another tenant's usage by a tenant admin", 'tenant=default', /bootstrap/, otherAdmin, 403),
  ];
}
