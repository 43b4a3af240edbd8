// docs/reference/api.md is what the server's OpenAPI document says: regenerated from a real server's
// /openapi.json and compared (npm run docs rewrites it); and the rendering of types is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { liveOpenApi } from './openapi-live.js';
import { apiReference, typeOf } from './reference.js';

const FILE = new URL('../../../../docs/reference/api.md', import.meta.url);

test('types render short: refs by name, arrays, unions, enums, maps', () => {
  assert.equal(typeOf({ $ref: '#/components/schemas/Run' }), 'Run');
  assert.equal(typeOf({ type: 'array', items: { type: 'string' } }), 'string[]');
  assert.equal(typeOf({ anyOf: [{ type: 'string' }, { type: 'null' }] }), 'string \\| null');
  assert.equal(typeOf({ enum: ['a', 'b'] }), '"a" \\| "b"');
  assert.equal(typeOf({ type: 'object', additionalProperties: { type: 'string' } }), 'map of string');
});

test('docs/reference/api.md matches the server (run `npm run docs` after changing a route or schema)', async () => {
  const want = apiReference(await liveOpenApi());
  const have = await readFile(FILE, 'utf8').catch(() => '');
  assert.ok(have === want, 'docs/reference/api.md is out of date: run `npm run docs` and commit it');
  assert.match(want, /^### `POST \/v1\/runs`$/m);
  assert.match(want, /^### RunPhases$/m);
});
