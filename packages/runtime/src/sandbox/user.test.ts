import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveUser } from './user.js';

test('names, uids and uid:gid resolve from the template; unknown names are rejected', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tartarus-test-user-'));
  try {
    await mkdir(join(root, 'etc'));
    await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nsandbox:x:1000:1000::/home/sandbox:/bin/sh\n');
    await writeFile(join(root, 'etc/group'), 'root:x:0:\nsandbox:x:1000:\nusers:x:100:sandbox\n');
    assert.deepEqual(await resolveUser(root, 'sandbox'), { uid: 1000, gid: 1000, additionalGids: [100] });
    assert.deepEqual(await resolveUser(root, 'root'), { uid: 0, gid: 0, additionalGids: [] });
    assert.deepEqual(await resolveUser(root, '1000'), { uid: 1000, gid: 1000, additionalGids: [100] });
    assert.deepEqual(await resolveUser(root, '4242:7'), { uid: 4242, gid: 7, additionalGids: [] });
    await assert.rejects(resolveUser(root, 'nobody'), { code: 'invalid_argument', message: /does not exist/ });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
