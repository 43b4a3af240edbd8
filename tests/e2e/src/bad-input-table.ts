/**
 * The rows of the bad-input test: for every route, the ways a request can be wrong (no key, bad
 * key, revoked key, wrong role, malformed JSON, unknown field, wrong Content-Type, oversized
 * body, another tenant's ids), plus route-specific wrong types and out-of-range values.
 */
import { specificRows } from './bad-input-cases.js';
import { terminationRows } from './bad-input-termination.js';
import { snapshotRows } from './bad-input-snapshots.js';
import { hibernationRows } from './bad-input-hibernation.js';
import type { CallOptions } from './helpers.js';

/** The template create's body limit: a 32 MiB build context as base64, plus 1 MiB. */
export const CREATE_TEMPLATE_BODY_LIMIT = Math.ceil((32 << 20) / 3) * 4 + (1 << 20);

/** One bad request and what it must get. */
export interface Row {
  name: string;
  method: string;
  path: string;
  key: string | undefined;
  expect: number;
  options?: CallOptions;
  /** The message must match (it names what to change). */
  says?: RegExp;
}

/** Keys and objects the rows refer to. */
export interface Fixture {
  admin: string;
  member: string;
  viewer: string;
  otherAdmin: string;
  tinyMember: string;
  revoked: string;
  sandbox: string;
  /** False when no runtime could create a real sandbox (the id is a placeholder). */
  sandboxIsReal: boolean;
  run: string;
  keyId: string;
  tenant: string;
}

/** Every route with a valid request, ids filled in; `mutating` routes need member or higher. */
export function routes(ids: { sandbox: string; run: string; key: string; tenant: string }) {
  const s = ids.sandbox;
  return [
    { method: 'POST', path: '/v1/sandboxes', body: {}, mutating: true },
    { method: 'GET', path: '/v1/sandboxes' },
    { method: 'GET', path: `/v1/sandboxes/${s}` },
    { method: 'DELETE', path: `/v1/sandboxes/${s}`, mutating: true },
    {
      method: 'POST',
      path: `/v1/sandboxes/${s}/timeout`,
      body: { timeoutMs: 60_000 },
      mutating: true,
    },
    { method: 'POST', path: `/v1/sandboxes/${s}/pause`, mutating: true },
    { method: 'POST', path: `/v1/sandboxes/${s}/terminate`, body: { delayMs: 3_600_000 }, mutating: true },
    { method: 'DELETE', path: `/v1/sandboxes/${s}/terminate`, mutating: true },
    { method: 'POST', path: `/v1/sandboxes/${s}/snapshots`, mutating: true },
    { method: 'POST', path: `/v1/sandboxes/${s}/fork`, body: { count: 1 }, mutating: true },
    { method: 'GET', path: '/v1/snapshots' },
    { method: 'GET', path: '/v1/snapshots/snp_x' },
    { method: 'DELETE', path: '/v1/snapshots/snp_x', mutating: true },
    { method: 'POST', path: `/v1/sandboxes/${s}/resume`, mutating: true },
    { method: 'POST', path: `/v1/sandboxes/${s}/hibernate`, mutating: true },
    { method: 'POST', path: `/v1/sandboxes/${s}/wake`, mutating: true },
    { method: 'POST', path: `/v1/sandboxes/${s}/exec`, body: { argv: ['true'] }, mutating: true },
    { method: 'GET', path: `/v1/sandboxes/${s}/files?path=/tmp` },
    { method: 'PUT', path: `/v1/sandboxes/${s}/files?path=/tmp/x`, raw: 'x', mutating: true },
    { method: 'GET', path: `/v1/sandboxes/${s}/files/list?path=/` },
    { method: 'DELETE', path: `/v1/sandboxes/${s}/files?path=/tmp/x`, mutating: true },
    { method: 'POST', path: '/v1/runs', body: { argv: ['true'] }, mutating: true },
    { method: 'GET', path: '/v1/runs' },
    { method: 'GET', path: `/v1/runs/${ids.run}` },
    { method: 'POST', path: `/v1/runs/${ids.run}/cancel`, mutating: true },
    { method: 'GET', path: `/v1/runs/${ids.run}/logs` },
    { method: 'GET', path: `/v1/runs/${ids.run}/attempts` },
    { method: 'GET', path: '/v1/templates' },
    { method: 'POST', path: '/v1/templates/busybox/build', mutating: true },
    { method: 'GET', path: '/v1/templates/busybox' },
    {
      method: 'POST',
      path: '/v1/templates',
      body: { name: 'x', image: '127.0.0.1:1/x:1' },
      mutating: true,
      bodyLimitBytes: CREATE_TEMPLATE_BODY_LIMIT,
    },
    { method: 'POST', path: '/v1/templates/nosuch/rebuild', mutating: true },
    { method: 'DELETE', path: '/v1/templates/nosuch', mutating: true },
    { method: 'GET', path: '/v1/registries' },
    {
      method: 'PUT',
      path: '/v1/registries/r.example/credentials',
      body: { username: 'u', password: 'p' },
      mutating: true,
      admin: true,
    },
    { method: 'DELETE', path: '/v1/registries/r.example/credentials', mutating: true, admin: true },
    { method: 'GET', path: '/v1/nodes' },
    { method: 'GET', path: '/v1/pools' },
    { method: 'GET', path: '/v1/nodes/tokens', admin: true },
    {
      method: 'POST',
      path: '/v1/nodes/tokens',
      body: { nodeId: 'node-x' },
      mutating: true,
      admin: true,
    },
    { method: 'DELETE', path: '/v1/nodes/tokens/ntk_missing', mutating: true, admin: true },
    { method: 'POST', path: '/v1/nodes/node-missing/cordon', mutating: true, admin: true },
    { method: 'POST', path: '/v1/nodes/node-missing/drain', mutating: true, admin: true },
    { method: 'POST', path: '/v1/nodes/node-missing/uncordon', mutating: true, admin: true },
    { method: 'GET', path: '/v1/api-keys', admin: true },
    { method: 'POST', path: '/v1/api-keys', body: { name: 'x' }, mutating: true, admin: true },
    { method: 'DELETE', path: `/v1/api-keys/${ids.key}`, mutating: true, admin: true },
    { method: 'GET', path: '/v1/tenants', admin: true },
    { method: 'POST', path: '/v1/tenants', body: { name: 'x' }, mutating: true, admin: true },
    { method: 'GET', path: `/v1/tenants/${ids.tenant}`, admin: true },
    {
      method: 'PATCH',
      path: `/v1/tenants/${ids.tenant}`,
      body: { name: 'y' },
      mutating: true,
      admin: true,
    },
    { method: 'GET', path: '/v1/audit', admin: true },
    { method: 'GET', path: '/v1/usage' },
    { method: 'GET', path: '/v1/events' },
    { method: 'POST', path: '/v1/webhooks', body: { url: 'https://93.184.216.34/hook', types: ['run.finished'] }, mutating: true, admin: true },
    { method: 'GET', path: '/v1/webhooks', admin: true },
    { method: 'GET', path: '/v1/webhooks/whk_missing', admin: true },
    { method: 'PATCH', path: '/v1/webhooks/whk_missing', body: { enabled: false }, mutating: true, admin: true },
    { method: 'DELETE', path: '/v1/webhooks/whk_missing', mutating: true, admin: true },
    { method: 'GET', path: '/v1/webhooks/whk_missing/deliveries', admin: true },
    { method: 'POST', path: '/v1/webhooks/whk_missing/deliveries/dlv_missing/redeliver', mutating: true, admin: true },
    { method: 'POST', path: '/v1/webhooks/whk_missing/ping', mutating: true, admin: true },
    { method: 'GET', path: '/v1/logs' },
    { method: 'GET', path: '/v1/integrations' },
    { method: 'POST', path: '/v1/deployments', body: { spec: 'version: v1' }, mutating: true },
    { method: 'POST', path: '/v1/deployments/validate', body: { spec: 'version: v1' } },
    { method: 'GET', path: '/v1/deployments' },
    { method: 'GET', path: '/v1/deployments/nosuch' },
    { method: 'GET', path: '/v1/deployments/nosuch/runs' },
    { method: 'POST', path: '/v1/deployments/nosuch/services/web/scale', body: { replicas: 1 }, mutating: true },
    { method: 'POST', path: '/v1/deployments/nosuch/services/job/trigger', mutating: true },
    { method: 'POST', path: '/v1/deployments/nosuch/stop', mutating: true },
    { method: 'DELETE', path: '/v1/deployments/nosuch', mutating: true },
    { method: 'GET', path: '/v1/deployments/nosuch/events' },
    { method: 'POST', path: '/v1/deployments/nosuch/services/web/exec', body: { argv: ['true'] }, mutating: true },
    { method: 'GET', path: '/v1/integrations/github/config', admin: true },
    { method: 'PUT', path: '/v1/integrations/slack/config', body: { signingSecret: 's' }, mutating: true, admin: true },
    { method: 'DELETE', path: '/v1/integrations/github/config', mutating: true, admin: true },
    { method: 'POST', path: '/v1/integrations/github/webhook/default', raw: '{}', public: true },
    { method: 'POST', path: '/v1/integrations/slack/commands/default', raw: 'text=status', public: true },
    { method: 'PUT', path: `/v1/sandboxes/${s}/egress`, body: { egress: 'none' }, mutating: true },
    { method: 'GET', path: `/v1/sandboxes/${s}/urls/8000` },
    { method: 'POST', path: `/v1/sandboxes/${s}/access-tokens`, body: {}, mutating: true },
    { method: 'GET', path: '/v1/network-policies' },
    { method: 'POST', path: '/v1/network-policies', body: { name: 'p', egress: 'all' }, mutating: true, admin: true },
    { method: 'GET', path: '/v1/network-policies/nosuch' },
    { method: 'DELETE', path: '/v1/network-policies/nosuch', mutating: true, admin: true },
    { method: 'GET', path: '/v1/secrets' },
    { method: 'PUT', path: '/v1/secrets/token', body: { value: 'v' }, mutating: true, admin: true },
    { method: 'DELETE', path: '/v1/secrets/nosuch', mutating: true, admin: true },
  ] as {
    method: string;
    path: string;
    body?: unknown;
    raw?: string;
    mutating?: boolean;
    admin?: boolean;
    /** A route's own body limit, when above the server's 2 MiB. */
    bodyLimitBytes?: number;
    /** Takes no API key (an integration's provider signs its requests instead). */
    public?: boolean;
  }[];
}

function opts(r: { body?: unknown; raw?: string }): CallOptions {
  if (r.raw !== undefined)
    return { raw: r.raw, headers: { 'content-type': 'application/octet-stream' } };
  return r.body === undefined ? {} : { body: r.body };
}

/** Every row. */
export function badInputRows(f: Fixture): Row[] {
  const { admin, member, viewer, otherAdmin, revoked, sandbox, run, keyId } = f;
  const all = routes({ sandbox, run, key: keyId, tenant: f.tenant });
  const rows: Row[] = [];
  for (const r of all) {
    const o = opts(r);
    const id = `${r.method} ${r.path}`;
    if (r.public) {
      rows.push({ name: `${id} for a tenant without the integration`, method: r.method, path: r.path, key: undefined, expect: 404, options: o, says: /no (GitHub|Slack) integration for tenant default/ });
      continue;
    }
    rows.push({
      name: `${id} without a key`,
      method: r.method,
      path: r.path,
      key: undefined,
      expect: 401,
      options: o,
      says: /Authorization: Bearer/,
    });
    rows.push({
      name: `${id} with an unknown key`,
      method: r.method,
      path: r.path,
      key: 'tt_not-a-real-key',
      expect: 401,
      options: o,
      says: /not valid/,
    });
    rows.push({
      name: `${id} with a revoked key`,
      method: r.method,
      path: r.path,
      key: revoked,
      expect: 401,
      options: o,
      says: /revoked/,
    });
    rows.push({
      name: `${id} with a Basic header`,
      method: r.method,
      path: r.path,
      key: undefined,
      expect: 401,
      options: { ...o, headers: { ...o.headers, authorization: 'Basic abc' } },
      says: /Bearer/,
    });
    if (r.mutating)
      rows.push({
        name: `${id} by a viewer`,
        method: r.method,
        path: r.path,
        key: viewer,
        expect: 403,
        options: o,
        says: /role|admin/,
      });
    if (r.admin)
      rows.push({
        name: `${id} by a member`,
        method: r.method,
        path: r.path,
        key: member,
        expect: 403,
        options: o,
        says: /admin/,
      });
    if (r.body !== undefined) {
      rows.push({
        name: `${id} with malformed JSON`,
        method: r.method,
        path: r.path,
        key: admin,
        expect: 400,
        options: { raw: '{"a":', headers: { 'content-type': 'application/json' } },
        says: /JSON/,
      });
      rows.push({
        name: `${id} with an unknown field`,
        method: r.method,
        path: r.path,
        key: admin,
        expect: 400,
        options: { body: { ...(r.body as object), bogus: 1 } },
        says: /remove unknown field\(s\) bogus/,
      });
      rows.push({
        name: `${id} with a text/plain body`,
        method: r.method,
        path: r.path,
        key: admin,
        expect: 400,
        options: { raw: 'hi', headers: { 'content-type': 'text/plain' } },
        says: /Content-Type/,
      });
      rows.push({
        name: `${id} with an array body`,
        method: r.method,
        path: r.path,
        key: admin,
        expect: 400,
        options: { body: [] },
        says: /body/,
      });
      const over = Math.max(3 << 20, (r.bodyLimitBytes ?? 0) + 1);
      rows.push({
        name: `${id} with a ${(over / 1048576).toFixed(0)} MiB body`,
        method: r.method,
        path: r.path,
        key: admin,
        expect: 413,
        options: {
          raw: JSON.stringify({ x: 'a'.repeat(over) }),
          headers: { 'content-type': 'application/json' },
        },
        says: /limit/,
      });
    }
    if (!r.admin && r.path.includes(sandbox) && f.sandboxIsReal)
      rows.push({
        name: `${id} on another tenant's sandbox`,
        method: r.method,
        path: r.path,
        key: otherAdmin,
        expect: 404,
        options: o,
      });
    if (r.path.includes(run))
      rows.push({
        name: `${id} on another tenant's run`,
        method: r.method,
        path: r.path,
        key: otherAdmin,
        expect: 404,
        options: o,
      });
  }
  rows.push(...specificRows(f));
  rows.push(...terminationRows(f));
  rows.push(...snapshotRows(f));
  rows.push(...hibernationRows(f));
  return rows;
}
