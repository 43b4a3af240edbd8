/** Bad-input rows of hibernation (`POST /v1/sandboxes/:id/hibernate|wake`, `hibernateAfterMs` on create). */
import type { Fixture, Row } from './bad-input-table.js';

/** The hibernation rows. */
export function hibernationRows(f: Fixture): Row[] {
  const create = (name: string, body: unknown, says: RegExp): Row => ({ name, method: 'POST', path: '/v1/sandboxes', key: f.member, expect: 400, options: { body }, says });
  return [
    create('create with hibernateAfterMs on the container runtime', { hibernateAfterMs: 60_000 }, /hibernateAfterMs needs runtime "microvm".*drop hibernateAfterMs or give runtime "microvm"/),
    create('create with hibernateAfterMs under a second', { runtime: 'microvm', hibernateAfterMs: 500 }, /hibernateAfterMs must be at least 1000 ms/),
    create('create with hibernateAfterMs as text', { runtime: 'microvm', hibernateAfterMs: '10m' }, /hibernateAfterMs must be a number of milliseconds/),
    { name: 'hibernate by a viewer', method: 'POST', path: `/v1/sandboxes/${f.sandbox}/hibernate`, key: f.viewer, expect: 403 },
    { name: 'hibernate of a missing sandbox', method: 'POST', path: '/v1/sandboxes/sbx_missing/hibernate', key: f.member, expect: 404 },
    { name: 'wake of a missing sandbox', method: 'POST', path: '/v1/sandboxes/sbx_missing/wake', key: f.member, expect: 404 },
    ...(f.sandboxIsReal
      ? [{ name: 'hibernate of a container sandbox', method: 'POST', path: `/v1/sandboxes/${f.sandbox}/hibernate`, key: f.member, expect: 409, says: /runs on container, which cannot save a sandbox's memory: only microvm sandboxes hibernate/ } satisfies Row]
      : []),
  ];
}
