import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_DEBIAN_MIRROR,
  hostDebianMirror,
  parseDeb822,
  parseSourcesList,
  pickMirror,
} from './mirror.js';

test('one-line sources.list entries, with options and comments', () => {
  const sources = parseSourcesList(
    '# deb http://old/debian bookworm main\ndeb-src http://src/debian bookworm main\n' +
      'deb [arch=amd64 signed-by=/k.gpg] http://local.mirror/debian/ bookworm main contrib\n',
  );
  assert.deepEqual(sources, [{ uris: ['http://local.mirror/debian/'], suites: ['bookworm'] }]);
  assert.equal(pickMirror(sources, 'bookworm'), 'http://local.mirror/debian');
});

test('deb822 .sources stanzas; the security suite is not taken for bookworm', () => {
  const sources = parseDeb822(
    'Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n\n' +
      'Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n' +
      'Types: deb\nEnabled: no\nURIs: http://off/debian\nSuites: bookworm\n',
  );
  assert.equal(pickMirror(sources, 'bookworm'), 'http://mirror.example/debian');
  assert.equal(pickMirror(sources, 'trixie'), undefined);
});

test('hostDebianMirror reads an apt config dir and falls back to deb.debian.org', async () => {
  const etc = await mkdtemp(join(tmpdir(), 'tartarus-apt-'));
  try {
    assert.equal(await hostDebianMirror('bookworm', etc), DEFAULT_DEBIAN_MIRROR);
    await mkdir(join(etc, 'sources.list.d'));
    await writeFile(
      join(etc, 'sources.list.d', 'debian.sources'),
      'Types: deb\nURIs: http://near/debian\nSuites: bookworm\n',
    );
    await writeFile(
      join(etc, 'sources.list.d', 'other.list.disabled'),
      'deb http://no/debian bookworm main\n',
    );
    assert.equal(await hostDebianMirror('bookworm', etc), 'http://near/debian');
  } finally {
    await rm(etc, { recursive: true, force: true });
  }
});
