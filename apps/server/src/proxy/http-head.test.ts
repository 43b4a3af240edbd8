// The connection tunnel's head parsing and rewriting (pure); the tunnel itself runs for real in tests/e2e proxy.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closingResponseHead, parseRequestHead, responseStatus } from './http-head.js';

const raw = (text: string, rest = ''): { raw: Buffer; end: number } => ({ raw: Buffer.from(text + rest, 'latin1'), end: Buffer.byteLength(text, 'latin1') });

test('request heads: method, target, version, fields in order (names lowercased), and what follows', () => {
  const h = parseRequestHead(raw('GET /v1/x?a=1 HTTP/1.1\r\nHost: a.b\r\nX-Two:  y \r\n\r\n', 'BODY'));
  assert.deepEqual({ ...h, rest: h?.rest.toString() }, { method: 'GET', url: '/v1/x?a=1', version: 'HTTP/1.1', fields: [['host', 'a.b'], ['x-two', 'y']], rest: 'BODY' });
  assert.equal(parseRequestHead(raw('GET / HTTP/2\r\n\r\n')), null, 'not HTTP/1.x');
  assert.equal(parseRequestHead(raw('GET / HTTP/1.1\r\nno colon\r\n\r\n')), null);
  assert.equal(parseRequestHead({ raw: Buffer.from('GET / HTTP/1.1\r\n'), end: -1 }), null, 'no head came');
});

test('response heads: the status, and a closing copy without the keep-alive fields', () => {
  assert.equal(responseStatus(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')), 200);
  assert.equal(responseStatus(Buffer.from('HTTP/1.0 100\r\n\r\n')), 100);
  assert.equal(responseStatus(Buffer.from('SSH-2.0-OpenSSH\r\n')), null);
  const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Connection-Id: 7\r\n\r\n');
  assert.equal(closingResponseHead(head).toString(), 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Connection-Id: 7\r\nConnection: close\r\n\r\n');
});
