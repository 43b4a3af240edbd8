/**
 * Work from an image reference through the API (real runc, a real registry on loopback): a run
 * without a command runs the image's ENTRYPOINT + CMD, a command and an entrypoint override them,
 * a sandbox from an image without `sleep` idles and execs as the image's user, a malformed
 * reference is a 400 naming it, and an unknown tag fails the run with a message naming it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startImageFixtures, type ImageFixtures } from '@tartarus/runtime/testing';
import { call, containerSkipReason, withEmbedded } from './helpers.js';

let fx: ImageFixtures | undefined;
let skip: string | undefined;

before(async () => {
  skip = await containerSkipReason();
  if (!skip) fx = await startImageFixtures();
});
after(async () => {
  await fx?.stop();
});

test('runs and sandboxes from an image reference, through the API', async (t) => {
  if (skip || !fx) return t.skip(skip);
  const images = fx;
  await withEmbedded(async (h) => {
    const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);

    const plain = await A('POST', '/v1/runs?wait=120s', { body: { image: images.app.ref } });
    assert.equal(plain.status, 201, plain.text);
    assert.equal(plain.json.state, 'succeeded', plain.text);
    assert.equal(plain.json.stdout, 'cmd-ran hello\n1234\n1234\n/home/app\nsecond-layer\n');
    assert.equal(plain.json.image, images.app.ref);

    const over = await A('POST', '/v1/runs?wait=120s', { body: { image: images.app.ref, entrypoint: ['/bin/echo'], argv: ['x', 'y'], user: 'root' } });
    assert.equal(over.json.stdout, 'x y\n', over.text);
    assert.deepEqual(over.json.entrypoint, ['/bin/echo']);

    const sbx = await A('POST', '/v1/sandboxes', { body: { image: images.nosleep.ref, user: '1234:1234' } });
    assert.equal(sbx.status, 201, sbx.text);
    const ex = await A('POST', `/v1/sandboxes/${sbx.json.id}/exec`, { body: { command: 'id -u; test -e /bin/sleep || echo no-sleep' } });
    assert.equal(ex.status, 200, ex.text);
    assert.equal(ex.json.stdout, '1234\nno-sleep\n');
    const killed = await A('DELETE', `/v1/sandboxes/${sbx.json.id}`);
    assert.ok(killed.status < 300, killed.text);

    const bad = await A('POST', '/v1/runs', { body: { image: 'Not/Valid:ref' } });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.json.error.message, /image reference "Not\/Valid:ref" is invalid/);

    const unknown = await A('POST', '/v1/runs?wait=120s', { body: { image: `${images.registry.host}/team/app:missing` } });
    assert.equal(unknown.json.state, 'dead', unknown.text);
    assert.equal(unknown.json.reason, 'start_failed');
    assert.match(unknown.json.message, /team\/app:missing was not found in its registry/);
    assert.equal(unknown.json.attempts, 1, 'a reference that is not there is not retried');

    const none = await A('POST', '/v1/runs', { body: { template: 'busybox' } });
    assert.equal(none.status, 400);
    assert.match(none.json.error.message, /argv.*command.*template busybox has no command of its own/);
  });
});
