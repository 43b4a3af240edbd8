import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GVISOR_PIDS_OVERHEAD, runscTool } from './argv.js';
import { buildOciConfig } from '../shared/oci-spec.js';
import { goldenInput } from '../shared/oci-spec.fixture.js';

const R = '/state/gvisor/.oci';
const G = ['runsc', '--root', R, '--network=none', '--oci-seccomp', '--ignore-cgroups'];

test('runsc command lines (golden)', () => {
  assert.deepEqual(runscTool.run(R, { bundle: '/b', pidFile: '/b/pid', containerId: 'tt-a' }), [...G, 'run', '--bundle', '/b', '--pid-file', '/b/pid', 'tt-a']);
  assert.deepEqual(runscTool.exec(R, { processFile: '/p.json', pidFile: '/p.pid', containerId: 'tt-a' }), [
    ...G, 'exec', '--process', '/p.json', '--internal-pid-file', '/p.pid', 'tt-a',
  ]);
  assert.deepEqual(runscTool.kill(R, 'tt-a', 'KILL', true), [...G, 'kill', '--all', 'tt-a', 'KILL']);
  assert.deepEqual(runscTool.delete(R, 'tt-a'), [...G, 'delete', '--force', 'tt-a']);
  assert.deepEqual(runscTool.list(R), [...G, 'list', '--format=json']);
  assert.deepEqual(runscTool.checkpoint!(R, { imagePath: '/b/ck', containerId: 'tt-a' }), [...G, 'checkpoint', '--image-path', '/b/ck', 'tt-a']);
  assert.deepEqual(runscTool.restore!(R, { bundle: '/b', pidFile: '/b/pid', containerId: 'tt-a', imagePath: '/b/ck' }), [
    ...G, 'restore', '--image-path', '/b/ck', '--bundle', '/b', '--pid-file', '/b/pid', 'tt-a',
  ]);
});

test('runsc config: /tmp bound to the capped layer; cgroups left to Tartarus', () => {
  const base = buildOciConfig(goldenInput);
  const c = runscTool.adjustConfig(base);
  assert.deepEqual(c.mounts.at(-1), { destination: '/tmp', type: 'bind', source: '/state/gvisor/a/layer/tmp', options: ['rbind', 'rw', 'nosuid', 'nodev'] });
  const hint = 'dev.gvisor.spec.mount.tt-tmp';
  assert.deepEqual(
    [c.annotations[`${hint}.source`], c.annotations[`${hint}.type`], c.annotations[`${hint}.share`]],
    ['/state/gvisor/a/layer/tmp', 'bind', 'container'],
    '/tmp is cached as the root is (exclusive to this sandbox)',
  );
  assert.equal(c.linux.cgroupsPath, undefined);
  assert.equal(c.linux.resources, undefined);
  assert.equal(runscTool.ownCgroups, true);
  assert.equal(runscTool.pidsOverhead, GVISOR_PIDS_OVERHEAD);
  assert.equal(base.linux.cgroupsPath, '/tartarus/a/c', 'the input config is not modified');
});
