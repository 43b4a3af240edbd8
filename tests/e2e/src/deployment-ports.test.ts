/**
 * A deployment's public TCP and UDP endpoints, published on their ports at the server's address
 * (real runc, an echo service in python): bytes and datagrams come back through them; a port
 * another deployment publishes is a 409 and one outside `publicPortRange` a 400, each saying what
 * to change; a stopped deployment's ports close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { Tartarus } from '@tartarus/sdk';
import { freePort, testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

const ECHO = [
  'import socket, threading',
  'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 9001))',
  'def udp():',
  '    while True:',
  '        d, a = u.recvfrom(2048); u.sendto(b"udp:" + d, a)',
  'threading.Thread(target=udp, daemon=True).start()',
  't = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("0.0.0.0", 9000)); t.listen(16)',
  'while True:',
  '    c, _ = t.accept(); c.sendall(b"tcp:" + c.recv(2048)); c.close()',
].join('\n');

const spec = (name: string, tcpPort: number, udpPort: number): string => `version: v1
deployment: ${name}
services:
  echo:
    rtype: service
    image:
      name: template:python
    command:
      entrypoint: ["python3", "-c"]
      args: [${JSON.stringify(ECHO)}]
    endpoints:
      - name: stream
        protocol: tcp
        port: ${tcpPort}
        target_port: 9000
        expose: public
      - name: dgram
        protocol: udp
        port: ${udpPort}
        target_port: 9001
        expose: public
    scale:
      mode: fixed
      replicas: 1
`;

/** Sends `text` over TCP to 127.0.0.1:`port`; the answer, or undefined when the connection fails. */
function tcpAsk(port: number, text: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    s.setTimeout(5000, () => s.destroy());
    s.on('connect', () => s.write(text));
    s.on('data', (c: Buffer) => (got += c.toString()));
    s.on('close', () => resolve(got === '' ? undefined : got));
    s.on('error', () => undefined);
  });
}

/** True when a TCP connection to 127.0.0.1:`port` is refused (nothing listens). */
function refused(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('connect', () => (s.destroy(), resolve(undefined)));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? true : undefined));
  });
}

/** Sends `text` as one datagram to 127.0.0.1:`port`; the first answer within a second, or undefined. */
function udpAsk(port: number, text: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => (s.close(), resolve(undefined)), 1000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString());
    });
    s.send(text, port, '127.0.0.1');
  });
}

test('deployments: public TCP and UDP endpoints on their ports; taken and outside ports refused', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  const [tcpPort, udpPort] = [await freePort(), await freePort()];
  await withEmbedded(async (h) => {
    const client = new Tartarus({ url: h.url, apiKey: h.adminKey });
    const d = await client.deployments.apply(spec('echo', tcpPort, udpPort), { file: 'echo.yaml' });
    assert.deepEqual(d.endpoints.map((e) => e.url), [`tcp://127.0.0.1:${tcpPort}`, `udp://127.0.0.1:${udpPort}`]);
    assert.equal(await eventually(() => tcpAsk(tcpPort, 'hello'), 60_000, 'the TCP echo'), 'tcp:hello');
    assert.equal(await eventually(() => udpAsk(udpPort, 'ping'), 30_000, 'the UDP echo'), 'udp:ping');

    const taken = await call(h.url, h.adminKey, 'POST', '/v1/deployments', { body: { spec: spec('other', tcpPort, udpPort + 1), file: 'other.yaml' } });
    assert.equal(taken.status, 409, taken.text);
    assert.match(taken.json.error.message, new RegExp(`services\\.echo\\.endpoints \\(stream\\): tcp port ${tcpPort} is published by another deployment \\(echo\\): choose another port`));
    const low = await call(h.url, h.adminKey, 'POST', '/v1/deployments', { body: { spec: spec('other', 80, udpPort + 1), file: 'other.yaml' } });
    assert.equal(low.status, 400, low.text);
    assert.match(low.json.error.message, /port 80 is outside the ports this server publishes \(1024-65535, publicPortRange\)/);

    await client.deployments.stop('echo');
    await eventually(async () => ((await client.deployments.get('echo')).state === 'stopped' ? true : undefined), 60_000, 'the stop');
    assert.equal(await eventually(() => refused(tcpPort), 10_000, 'the port to close'), true);
  }, { templateDir: testTemplateDir() });
});
