/** Bad-input rows of the node-token and node-scheduling routes (`/v1/nodes/tokens`, `/v1/nodes/:id/cordon|drain|uncordon`; admins of the bootstrap tenant). */
import type { Fixture, Row } from './bad-input-table.js';

/** The node-token rows. */
export function nodeTokenRows(f: Fixture): Row[] {
  const { admin, otherAdmin } = f;
  return [
    {
      name: 'node token without a nodeId',
      method: 'POST',
      path: '/v1/nodes/tokens',
      key: admin,
      expect: 400,
      options: { body: {} },
      says: /nodeId/,
    },
    {
      name: 'node token with an empty nodeId',
      method: 'POST',
      path: '/v1/nodes/tokens',
      key: admin,
      expect: 400,
      options: { body: { nodeId: '' } },
      says: /nodeId must not be empty/,
    },
    {
      name: 'node token with a 200-character nodeId',
      method: 'POST',
      path: '/v1/nodes/tokens',
      key: admin,
      expect: 400,
      options: { body: { nodeId: 'n'.repeat(200) } },
      says: /nodeId must be at most 128 characters/,
    },
    {
      name: 'node token with a numeric nodeId',
      method: 'POST',
      path: '/v1/nodes/tokens',
      key: admin,
      expect: 400,
      options: { body: { nodeId: 7 } },
      says: /nodeId/,
    },
    {
      name: 'node token by a non-bootstrap admin',
      method: 'POST',
      path: '/v1/nodes/tokens',
      key: otherAdmin,
      expect: 403,
      options: { body: { nodeId: 'node-x' } },
      says: /bootstrap/,
    },
    {
      name: 'node tokens listed by a non-bootstrap admin',
      method: 'GET',
      path: '/v1/nodes/tokens',
      key: otherAdmin,
      expect: 403,
      says: /bootstrap/,
    },
    {
      name: 'revoke of a missing node token',
      method: 'DELETE',
      path: '/v1/nodes/tokens/ntk_missing',
      key: admin,
      expect: 404,
      says: /node token ntk_missing not found/,
    },
    {
      name: 'revoke of a node token with a bad id',
      method: 'DELETE',
      path: '/v1/nodes/tokens/bad%20id',
      key: admin,
      expect: 400,
      says: /ids contain only/,
    },
    ...['cordon', 'drain', 'uncordon'].flatMap((verb): Row[] => [
      {
        name: `${verb} of a missing node`,
        method: 'POST',
        path: `/v1/nodes/node-missing/${verb}`,
        key: admin,
        expect: 404,
        says: /node node-missing not found: tartarus nodes ls lists them/,
      },
      {
        name: `${verb} by a non-bootstrap admin`,
        method: 'POST',
        path: `/v1/nodes/node-missing/${verb}`,
        key: otherAdmin,
        expect: 403,
        says: /bootstrap/,
      },
      {
        name: `${verb} of a 200-character node id`,
        method: 'POST',
        path: `/v1/nodes/${'n'.repeat(200)}/${verb}`,
        key: admin,
        expect: 400,
        says: /a path parameter is too long \(at most 100 characters\)/,
      },
    ]),
  ];
}
