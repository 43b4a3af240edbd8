import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DebootstrapProgress, LineSplitter } from './progress.js';
import { debootstrapArgv } from './debootstrap.js';

// Shortened output of a real `debootstrap --variant=minbase` run (bookworm).
const RUN = `I: Target architecture can be executed
I: Retrieving InRelease
I: Checking Release signature
I: Valid Release signature (key id 4D64FEC119C2029067D6E791F8D2585B8783D481)
I: Retrieving Packages
I: Validating Packages
I: Resolving dependencies of required packages...
I: Resolving dependencies of base packages...
I: Checking component main on http://deb.debian.org/debian...
I: Retrieving adduser 3.134
I: Validating adduser 3.134
I: Retrieving apt 2.6.1
I: Validating apt 2.6.1
I: Chosen extractor for .deb packages: dpkg-deb
I: Extracting adduser...
I: Extracting apt...
I: Installing core packages...
I: Unpacking required packages...
I: Unpacking adduser...
I: Unpacking apt...
I: Configuring required packages...
I: Configuring adduser...
I: Unpacking the base system...
I: Configuring the base system...
I: Configuring apt...
I: Base system installed successfully.`.split('\n');

test('debootstrap lines map to phases with a fraction that only grows, ending at 1', () => {
  const progress = new DebootstrapProgress(2);
  const steps = RUN.map((line) => progress.next(line));
  assert.ok(steps.every((s) => s !== undefined));
  const phases = steps.map((s) => s?.phase);
  assert.equal(phases[5], 'resolve'); // "Validating Packages" is the index, not a package
  assert.equal(phases[10], 'download');
  assert.equal(phases[14], 'extract');
  assert.equal(phases[18], 'install');
  assert.equal(phases[21], 'configure');
  assert.equal(phases.at(-1), 'finalize');
  const fractions = steps.map((s) => s?.fraction ?? -1);
  assert.deepEqual(
    fractions,
    [...fractions].sort((a, b) => a - b),
  );
  assert.equal(fractions.at(-1), 1);
  assert.equal(progress.next('W: some warning'), undefined);
  assert.deepEqual(progress.current(), { phase: 'finalize', fraction: 1 });
});

test('line splitter keeps partial lines until their end arrives', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('I: Retr'), []);
  assert.deepEqual(s.push('ieving a 1\nI: Val'), ['I: Retrieving a 1']);
  assert.deepEqual(s.flush(), ['I: Val']);
});

test('debootstrap argv: private mount namespace, minbase, includes, package cache', () => {
  assert.deepEqual(
    debootstrapArgv({
      suite: 'bookworm',
      rootfs: '/c/.build-python-x/rootfs',
      mirror: 'http://m/debian',
      include: ['python3', 'python3-numpy'],
      debCacheDir: '/c/.cache/debs',
    }),
    [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--',
      'debootstrap',
      '--variant=minbase',
      '--components=main',
      '--include=python3,python3-numpy',
      '--cache-dir=/c/.cache/debs',
      'bookworm',
      '/c/.build-python-x/rootfs',
      'http://m/debian',
    ],
  );
  assert.ok(
    !debootstrapArgv({
      suite: 'bookworm',
      rootfs: '/r',
      mirror: 'http://m',
      include: [],
      debCacheDir: '/d',
    }).some((a) => a.startsWith('--include')),
  );
});
