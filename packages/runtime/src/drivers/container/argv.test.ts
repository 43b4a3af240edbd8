import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runcTool } from './argv.js';
import { buildOciConfig } from '../shared/oci-spec.js';
import { goldenInput } from '../shared/oci-spec.fixture.js';

const R = '/state/container/.oci';

test('runc command lines (golden)', () => {
  assert.deepEqual(runcTool.run(R, { bundle: '/state/container/a', pidFile: '/state/container/a/pid', containerId: 'tt-a' }), [
    'runc', '--root', R, 'run', '--bundle', '/state/container/a', '--pid-file', '/state/container/a/pid', 'tt-a',
  ]);
  assert.deepEqual(runcTool.exec(R, { processFile: '/p.json', pidFile: '/p.pid', containerId: 'tt-a' }), [
    'runc', '--root', R, 'exec', '--process', '/p.json', '--pid-file', '/p.pid', 'tt-a',
  ]);
  assert.deepEqual(runcTool.kill(R, 'tt-a', 'TERM', false), ['runc', '--root', R, 'kill', 'tt-a', 'TERM']);
  assert.deepEqual(runcTool.kill(R, 'tt-a', 'KILL', true), ['runc', '--root', R, 'kill', '--all', 'tt-a', 'KILL']);
  assert.deepEqual(runcTool.delete(R, 'tt-a'), ['runc', '--root', R, 'delete', '--force', 'tt-a']);
  assert.deepEqual(runcTool.pause(R, 'tt-a'), ['runc', '--root', R, 'pause', 'tt-a']);
  assert.deepEqual(runcTool.resume(R, 'tt-a'), ['runc', '--root', R, 'resume', 'tt-a']);
  assert.deepEqual(runcTool.list(R), ['runc', '--root', R, 'list', '--format', 'json']);
});

test('runc config adds a cgroup namespace and changes nothing else', () => {
  const base = buildOciConfig(goldenInput);
  const adjusted = runcTool.adjustConfig(base);
  assert.deepEqual(adjusted.linux.namespaces.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
  assert.deepEqual({ ...adjusted, linux: { ...adjusted.linux, namespaces: base.linux.namespaces } }, base);
});
