/** Bad-input rows of `GET /v1/usage`, `GET /v1/events` and `/v1/secrets`. */
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
    { name: 'events of an unknown type', method: 'GET', path: '/v1/events?types=run.queued,run.exploded', key: admin, expect: 400, says: /event types/ },
    { name: 'events after an id that is not one', method: 'GET', path: '/v1/events?after=-1', key: admin, expect: 400, says: /event id/ },
    { name: 'events of more than 1000 a page', method: 'GET', path: '/v1/events?limit=5000', key: admin, expect: 400, says: /limit/ },
    { name: "another tenant's events by a tenant admin", method: 'GET', path: '/v1/events?tenant=default', key: otherAdmin, expect: 403, says: /bootstrap/ },
    { name: 'integration that does not exist', method: 'GET', path: '/v1/integrations/jira/config', key: admin, expect: 404, says: /no integration jira/ },
    { name: 'integration config without its required field', method: 'PUT', path: '/v1/integrations/github/config', key: admin, expect: 400, says: /^github config: webhookSecret: /, options: { body: { repos: [] } } },
    { name: 'integration config with a bad nested field', method: 'PUT', path: '/v1/integrations/github/config', key: admin, expect: 400, says: /^github config: repos\.0\.run\.timeoutMs: /, options: { body: { webhookSecret: 'h', repos: [{ repo: 'a/b', run: { command: 'true', timeoutMs: 1 } }] } } },
    { name: 'integration config of a plugin name with capitals', method: 'PUT', path: '/v1/integrations/GitHub/config', key: admin, expect: 400, says: /plugin must be a plugin name/, options: { body: {} } },
    { name: 'secret with a bad name', method: 'PUT', path: '/v1/secrets/-x', key: admin, expect: 400, says: /starting with a letter or digit/, options: { body: { value: 'v' } } },
    { name: 'secret without a value', method: 'PUT', path: '/v1/secrets/x', key: admin, expect: 400, says: /value/, options: { body: {} } },
    { name: 'secret of another field', method: 'PUT', path: '/v1/secrets/x', key: admin, expect: 400, says: /secret|unrecognized|value/i, options: { body: { value: 'v', secret: 'w' } } },
  ];
}
