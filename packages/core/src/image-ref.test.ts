import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackRegistry, parseImageRef } from './image-ref.js';

test("references normalise as Docker's do", () => {
  const table: [string, string][] = [
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.25', 'docker.io/library/nginx:1.25'],
    ['team/app', 'docker.io/team/app:latest'],
    ['index.docker.io/team/app:v1', 'docker.io/team/app:v1'],
    ['localhost/app', 'localhost/app:latest'],
    ['127.0.0.1:5000/a/b/c:t_1', '127.0.0.1:5000/a/b/c:t_1'],
    ['quay.io/org/app@sha256:' + 'a'.repeat(64), 'quay.io/org/app@sha256:' + 'a'.repeat(64)],
    ['reg.example.com:443/app:tag@sha256:' + 'b'.repeat(64), 'reg.example.com:443/app:tag@sha256:' + 'b'.repeat(64)],
  ];
  for (const [given, canonical] of table) assert.equal(parseImageRef(given).canonical, canonical, given);
  assert.deepEqual(
    { ...parseImageRef('127.0.0.1:5000/x:1') },
    { registry: '127.0.0.1:5000', repository: 'x', tag: '1', canonical: '127.0.0.1:5000/x:1' },
  );
});

test('a bad reference is refused with a message naming it and the expected form', () => {
  for (const bad of ['', 'UPPER/app', 'app:', 'app@sha256:short', 'a//b', 'app:bad tag', '-app', 'x'.repeat(600)]) {
    assert.throws(() => parseImageRef(bad), (e: Error) => /image reference .* is invalid: .*expected \[registry\/\]name/.test(e.message), bad);
  }
});

test('loopback registries are recognised (they are reached without TLS)', () => {
  for (const r of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) assert.equal(isLoopbackRegistry(r), true, r);
  for (const r of ['docker.io', '10.0.0.1:5000', 'localhost.example.com', '127.0.0.1.nip.io']) assert.equal(isLoopbackRegistry(r), false, r);
});
