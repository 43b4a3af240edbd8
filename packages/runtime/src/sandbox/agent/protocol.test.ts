import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeExit,
  encodeExec,
  encodeFrame,
  FrameDecoder,
  Msg,
  PayloadReader,
  PayloadWriter,
  MAX_PAYLOAD_BYTES,
} from './protocol.js';

test('a frame is length, type, id, payload (little endian)', () => {
  assert.deepEqual(
    [...encodeFrame(Msg.signal, 0x01020304, Buffer.from([9, 1]))],
    [2, 0, 0, 0, 3, 4, 3, 2, 1, 9, 1],
  );
});

test('exec payload: ids, flags, limit, cwd, argv and env as length-prefixed strings (no shell)', () => {
  const p = encodeExec({
    argv: ['sh', '-c', 'echo $A; rm -rf /'],
    env: { A: 'x y' },
    cwd: '/tmp',
    uid: 1000,
    gid: 100,
    stdin: true,
    outputLimitBytes: 4096,
  });
  const r = new PayloadReader(p);
  assert.deepEqual([r.u32(), r.u32(), r.u32(), r.u64(), r.str()], [1000, 100, 1, 4096, '/tmp']);
  assert.equal(r.u32(), 3);
  assert.deepEqual([r.str(), r.str(), r.str()], ['sh', '-c', 'echo $A; rm -rf /']);
  assert.equal(r.u32(), 1);
  assert.equal(r.str(), 'A=x y');
  assert.ok(r.done);
});

test('the decoder splits a byte stream at any boundary', () => {
  const frames = Buffer.concat([
    encodeFrame(Msg.stdout, 7, Buffer.from('hello')),
    encodeFrame(Msg.exit, 7, new PayloadWriter().u32(3).u32(0).u8(1).u8(0).u8(0).build()),
  ]);
  for (let cut = 0; cut <= frames.length; cut++) {
    const d = new FrameDecoder();
    const got = [...d.push(frames.subarray(0, cut)), ...d.push(frames.subarray(cut))];
    assert.deepEqual(
      got.map((f) => [f.type, f.id]),
      [
        [Msg.stdout, 7],
        [Msg.exit, 7],
      ],
    );
    assert.equal(got[0]?.payload.toString(), 'hello');
    assert.deepEqual(decodeExit(got[1]?.payload ?? Buffer.alloc(0)), {
      exitCode: 3,
      signal: 0,
      oom: true,
    });
  }
});

test('an oversized or truncated frame from the guest is refused, not trusted', () => {
  const head = Buffer.alloc(9);
  head.writeUInt32LE(MAX_PAYLOAD_BYTES * 4, 0);
  assert.throws(() => new FrameDecoder().push(head), /oversized/);
  assert.throws(() => new PayloadReader(Buffer.from([1, 0, 0, 0])).str(), /malformed/);
});
