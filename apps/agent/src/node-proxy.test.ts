// The node proxy on real sockets, as a server on another node uses it (no `direct` shortcut): the
// secret is checked, a sandbox without a network or not on this node is refused with a status,
// and a tunnel carries bulk both ways intact (moved into the kernel relay once it is large). The
// sandbox's address is a real TCP server on loopback standing in for a sandbox's network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { formatTunnelRequest, parseTunnelReply, readTunnelLine } from '@tartarus/core/base';
import { NodeProxy } from './node-proxy.js';

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A "sandbox" server: reads to the end, answers with the digest of what it got and then `reply`. */
function sandboxServer(reply: Buffer): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('end', () => s.end(Buffer.concat([Buffer.from(`${digest(Buffer.concat(got))}\n`), reply])));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Opens a tunnel: resolves to the reply and the socket (carrying the sandbox's bytes when ok). */
async function open(address: string, request: Parameters<typeof formatTunnelRequest>[0]): Promise<{ reply: ReturnType<typeof parseTunnelReply>; socket: Socket }> {
  const i = address.lastIndexOf(':');
  const socket = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)), allowHalfOpen: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(formatTunnelRequest(request));
  return { reply: parseTunnelReply(await readTunnelLine(socket)), socket };
}

test('the node proxy checks the secret and the sandbox, and carries bulk both ways intact', async () => {
  const down = randomBytes(12 << 20);
  const up = randomBytes(6 << 20);
  const sandbox = await sandboxServer(down);
  const port = (sandbox.address() as { port: number }).port;
  const proxy = new NodeProxy(async (id) => {
    if (id === 'sbx_here') return '127.0.0.1';
    if (id === 'sbx_nonet') return undefined;
    throw new Error(`sandbox ${id} is not on this node`);
  });
  const { address, secret } = await proxy.start('127.0.0.1:0');
  try {
    const wrong = await open(address, { secret: 'nope', sandboxId: 'sbx_here', port, direct: false });
    assert.deepEqual(wrong.reply.ok ? null : wrong.reply.status, 403);
    wrong.socket.destroy();
    const noNet = await open(address, { secret, sandboxId: 'sbx_nonet', port, direct: false });
    assert.match(noNet.reply.ok ? '' : `${noNet.reply.status} ${noNet.reply.message}`, /^409 .*no network/);
    noNet.socket.destroy();
    const away = await open(address, { secret, sandboxId: 'sbx_gone', port, direct: false });
    assert.match(away.reply.ok ? '' : `${away.reply.status} ${away.reply.message}`, /^409 .*not on this node/);
    away.socket.destroy();

    const t = await open(address, { secret, sandboxId: 'sbx_here', port, direct: false });
    assert.deepEqual(t.reply, { ok: true });
    const got: Buffer[] = [];
    t.socket.on('data', (d: Buffer) => got.push(d));
    const ended = new Promise((resolve) => t.socket.on('end', resolve));
    t.socket.end(up);
    await ended;
    const back = Buffer.concat(got);
    assert.equal(back.subarray(0, 65).toString(), `${digest(up)}\n`);
    assert.equal(digest(back.subarray(65)), digest(down));
    t.socket.destroy();
  } finally {
    proxy.close();
    sandbox.close();
  }
});
