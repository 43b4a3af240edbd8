// skopeo's failures mapped to what to change: a refusal is a refusal even when the registry's port
// contains 404, and a missing tag is "not found" even on a port containing 401.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registryError } from './skopeo.js';

const fatal = (msg: string): string => `time="2026-12-01T21:00:00Z" level=fatal msg="${msg.replaceAll('"', '\\"')}"\n`;

test('registry errors: refused or not found, whatever the port', () => {
  const refused = registryError('127.0.0.1:40403/secret/app:1', fatal('Error parsing image name "docker://127.0.0.1:40403/secret/app:1": reading manifest 1 in 127.0.0.1:40403/secret/app: unauthorized: authentication required'));
  assert.match(refused.message, /^the registry refused access to image 127\.0\.0\.1:40403\/secret\/app:1: give valid registry credentials/);
  const missing = registryError('127.0.0.1:40140/team/app:nope', fatal('Error parsing image name "docker://127.0.0.1:40140/team/app:nope": reading manifest nope in 127.0.0.1:40140/team/app: manifest unknown'));
  assert.match(missing.message, /^image 127\.0\.0\.1:40140\/team\/app:nope was not found in its registry/);
  assert.match(registryError('r.example/a:1', fatal('unexpected status 404 Not Found')).message, /was not found/);
  assert.match(registryError('r.example/a:1', fatal('requested access to the resource is denied')).message, /refused access/);
});
