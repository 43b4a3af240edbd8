/** Bad-input rows of snapshots (`/v1/sandboxes/:id/snapshots`, `/v1/sandboxes/:id/fork`, `/v1/snapshots`). */
import type { Fixture, Row } from './bad-input-table.js';

/** The snapshot rows. */
export function snapshotRows(f: Fixture): Row[] {
  const fork = (name: string, body: unknown, says: RegExp): Row => ({ name, method: 'POST', path: `/v1/sandboxes/${f.sandbox}/fork`, key: f.member, expect: 400, options: { body }, says });
  return [
    fork('fork of no copies', { count: 0 }, /count must be at least 1/),
    fork('fork of 51 copies', { count: 51 }, /count must be at most 50/),
    fork('fork with a count as text', { count: 'two' }, /count must be a number of copies/),
    fork('fork without a count', {}, /count/),
    { name: 'snapshot by a viewer', method: 'POST', path: `/v1/sandboxes/${f.sandbox}/snapshots`, key: f.viewer, expect: 403 },
    { name: 'snapshot of a missing sandbox', method: 'POST', path: '/v1/sandboxes/sbx_missing/snapshots', key: f.member, expect: 404, says: /sandbox sbx_missing not found/ },
    { name: 'missing snapshot', method: 'GET', path: '/v1/snapshots/snp_missing', key: f.member, expect: 404, says: /snapshot snp_missing not found/ },
    { name: 'delete of a missing snapshot', method: 'DELETE', path: '/v1/snapshots/snp_missing', key: f.member, expect: 404, says: /snapshot snp_missing not found/ },
    { name: 'delete of a snapshot by a viewer', method: 'DELETE', path: '/v1/snapshots/snp_missing', key: f.viewer, expect: 403 },
    { name: 'sandbox from a missing snapshot', method: 'POST', path: '/v1/sandboxes', key: f.member, expect: 404, options: { body: { snapshot: 'snp_missing' } }, says: /snapshot snp_missing not found/ },
    { name: 'snapshot with memory as text', method: 'POST', path: `/v1/sandboxes/${f.sandbox}/snapshots`, key: f.member, expect: 400, options: { body: { memory: 'yes' } }, says: /memory/ },
    fork('fork with memory as text', { count: 1, memory: 'yes' }, /memory/),
    ...(f.sandboxIsReal
      ? [{ name: 'memory snapshot of a container sandbox', method: 'POST', path: `/v1/sandboxes/${f.sandbox}/snapshots`, key: f.member, expect: 409, options: { body: { memory: true } }, says: /runs on container, whose memory cannot be saved here .*take a files snapshot/ } satisfies Row]
      : []),
    { name: 'sandbox from a snapshot id with spaces', method: 'POST', path: '/v1/sandboxes', key: f.member, expect: 400, options: { body: { snapshot: 'not an id' } }, says: /snapshot/ },
  ];
}
