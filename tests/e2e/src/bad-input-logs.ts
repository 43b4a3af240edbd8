/** Bad-input rows of `GET /v1/logs`, the log search. */
import type { Fixture, Row } from './bad-input-table.js';

/** The log search rows. */
export function logRows(f: Fixture): Row[] {
  const { admin, otherAdmin, run, sandbox } = f;
  const get = (name: string, query: string, says: RegExp, key = admin, expect = 400): Row => ({
    name: `log search ${name}`,
    method: 'GET',
    path: `/v1/logs?${query}`,
    key,
    expect,
    says,
  });
  return [
    get('by run and sandbox at once', `run=${run}&sandbox=${sandbox}`, /run or sandbox, not both/),
    get('with a sandbox id as the run', `run=${sandbox}`, /run must be a run id/),
    get('with a run id as the sandbox', `sandbox=${run}`, /sandbox must be a sandbox id/),
    get('from a time that is not ISO 8601', 'from=yesterday', /from must be an ISO 8601 time/),
    get('with from after to', 'from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', /must be before to/),
    get('with an empty query', 'query=', /query must not be empty/),
    get('with a 300-character query', `query=${'x'.repeat(300)}`, /at most 256/),
    get('in an unknown order', 'order=random', /order must be newest or oldest/),
    get('with limit=0', 'limit=0', /at least 1/),
    get('with a cursor it never gave', 'cursor=bm9wZQ', /cursor is not valid/),
    get('with an unknown parameter', 'text=x', /text/),
    get("of another tenant by a tenant admin", 'tenant=default', /bootstrap/, otherAdmin, 403),
  ];
}
