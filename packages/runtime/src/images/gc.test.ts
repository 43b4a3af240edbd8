import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectImages } from './gc.js';

test('image collection on a node that never pulled an image finds nothing (and does not fail)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tt-images-gc-'));
  try {
    const c = await collectImages(join(dir, 'images'), { budgetBytes: 0 });
    assert.deepEqual(c, { removed: [], freedBytes: 0, keptBytes: 0 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
