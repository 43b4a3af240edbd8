/** Bad-input rows of a sandbox's termination (`POST|DELETE /v1/sandboxes/:id/terminate`). */
import type { Fixture, Row } from './bad-input-table.js';

/** The termination rows. */
export function terminationRows(f: Fixture): Row[] {
  const path = `/v1/sandboxes/${f.sandbox}/terminate`;
  const post = (name: string, body: unknown, says: RegExp): Row => ({ name, method: 'POST', path, key: f.member, expect: 400, options: { body }, says });
  return [
    post('terminate with a negative delay', { delayMs: -1 }, /delayMs must be at least 0 ms/),
    post('terminate with a delay past a day', { delayMs: 86_400_001 }, /delayMs must be at most 86400000 ms/),
    post('terminate with a grace of 11 minutes', { graceMs: 660_000 }, /graceMs must be at most 600000 ms/),
    post('terminate with a grace in seconds as text', { graceMs: '10s' }, /graceMs must be a number of milliseconds/),
    post('terminate with a 501-character reason', { reason: 'r'.repeat(501) }, /reason must be at most 500 characters/),
    post('terminate with an unknown field', { checkpoint: true }, /checkpoint/),
    post('terminate with snapshot as text', { snapshot: 'yes' }, /snapshot/),
    { name: 'terminate by a viewer', method: 'POST', path, key: f.viewer, expect: 403, options: { body: {} } },
    { name: 'terminate of a missing sandbox', method: 'POST', path: '/v1/sandboxes/sbx_missing/terminate', key: f.member, expect: 404, options: { body: {} } },
    { name: 'cancel of a missing sandbox’s termination', method: 'DELETE', path: '/v1/sandboxes/sbx_missing/terminate', key: f.member, expect: 404 },
    ...(f.sandboxIsReal
      ? [{ name: 'cancel with no termination pending', method: 'DELETE', path, key: f.member, expect: 409, says: /has no termination pending .*nothing to cancel/ }]
      : []),
  ];
}
