/** Bad-input rows of the tenant routes (`/v1/tenants`, admins of the bootstrap tenant). */
import type { Fixture, Row } from './bad-input-table.js';

/** The tenant rows. */
export function tenantRows(f: Fixture): Row[] {
  const { admin, tenant } = f;
  const create = (name: string, body: unknown, says?: RegExp): Row => ({
    name,
    method: 'POST',
    path: '/v1/tenants',
    key: admin,
    expect: 400,
    options: { body },
    ...(says ? { says } : {}),
  });
  return [
    create('tenant with a negative quota', { name: 'n', maxQueuedRuns: -1 }),
    create(
      'tenant with a negative maxLogBytes',
      { name: 'n', maxLogBytes: -1 },
      /maxLogBytes must be at least 0/,
    ),
    create(
      'tenant with a fractional maxLogBytes',
      { name: 'n', maxLogBytes: 10.5 },
      /maxLogBytes must be a whole number of bytes/,
    ),
    create(
      'tenant with maxLogBytes as a string',
      { name: 'n', maxLogBytes: '1GiB' },
      /maxLogBytes must be a number of bytes/,
    ),
    {
      name: 'tenant patched past the largest maxLogBytes',
      method: 'PATCH',
      path: `/v1/tenants/${tenant}`,
      key: admin,
      expect: 400,
      options: { body: { maxLogBytes: 2 * 1024 ** 4 } },
      says: /maxLogBytes must be at most 1099511627776 \(1 TiB\)/,
    },
    {
      name: 'tenant patched with a null maxLogBytes',
      method: 'PATCH',
      path: `/v1/tenants/${tenant}`,
      key: admin,
      expect: 400,
      options: { body: { maxLogBytes: null } },
      says: /maxLogBytes/,
    },
    create(
      'tenant with no room for snapshots',
      { name: 'n', maxSnapshotBytes: 0 },
      /maxSnapshotBytes must be at least 1 \(null: the server's maxSnapshotBytes\)/,
    ),
    create(
      'tenant with a fractional maxSnapshotBytes',
      { name: 'n', maxSnapshotBytes: 1.5 },
      /maxSnapshotBytes must be a whole number of bytes/,
    ),
    create(
      'tenant with maxSnapshotBytes as a string',
      { name: 'n', maxSnapshotBytes: '10GiB' },
      /maxSnapshotBytes must be a number of bytes, or null for the server's maxSnapshotBytes/,
    ),
    {
      name: 'tenant patched past the largest maxSnapshotBytes',
      method: 'PATCH',
      path: `/v1/tenants/${tenant}`,
      key: admin,
      expect: 400,
      options: { body: { maxSnapshotBytes: 2 * 1024 ** 5 } },
      says: /maxSnapshotBytes must be at most 1125899906842624 \(1 PiB\)/,
    },
    {
      name: 'patch of a missing tenant',
      method: 'PATCH',
      path: '/v1/tenants/ten_missing',
      key: admin,
      expect: 404,
      options: { body: { name: 'z' } },
    },
  ];
}
