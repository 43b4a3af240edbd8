// The init's attach socket against a workload, even root: without the host's secret nothing is
// served (here: cancelling the deadline is refused), a wrong secret drops the connection, and the
// sandbox's own host still reaches the init afterwards (the squatter made way).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RuntimeName } from '../../driver.js';
import { withTestRuntime } from '../../testing/runtime.js';

// Connects to the init's abstract socket, sends a T_DEADLINE(0) (cancel), then a wrong T_AUTH,
// and prints what came back: the frame types, then whether the connection was closed.
const PROBE = `
import socket, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect('\\0tartarus-init')
def frame(t, i, p): return struct.pack('<IBI', len(p), t, i) + p
s.sendall(frame(13, 7, struct.pack('<QQ', 0, 0)))
h = s.recv(9)
print('reply', h[4] if len(h) == 9 else 'none')
s.recv(struct.unpack('<I', h[:4])[0]) if len(h) == 9 else None
s.sendall(frame(15, 8, b'not-the-secret'))
print('after-wrong-secret', 'closed' if s.recv(100) == b'' else 'open')
`;

for (const runtime of ['container', 'gvisor'] as RuntimeName[]) {
  test(`${runtime}: a workload, even root, cannot use the init's attach socket`, async (t) => {
    await withTestRuntime(async (tr) => {
      const a = await tr.runtime.driver(runtime).available();
      if (!a.ok) return t.skip(`${runtime} is unavailable here: ${a.reason}`);
      const sb = await tr.runtime.createSandbox({ template: 'python', runtime, command: ['sleep', '600'] });
      try {
        await sb.start();
        const r = await (await sb.exec({ argv: ['python3', '-c', PROBE], user: 'root' })).wait();
        assert.equal(r.stdout.toString(), 'reply 70\nafter-wrong-secret closed\n', r.stderr.toString());
        // The host's own connection is untouched.
        assert.equal((await (await sb.exec({ argv: ['echo', 'host ok'] })).wait()).stdout.toString(), 'host ok\n');
      } finally {
        await sb.destroy();
      }
    });
  });
}
