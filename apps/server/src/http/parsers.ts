/**
 * Body parsers: our own JSON parser (an empty body is "no body", and bad JSON gets a message that
 * says so) and raw bytes for file uploads. `text/plain` is not accepted, so a wrong Content-Type
 * is answered with what to send instead.
 */
import { InvalidArgumentError, TartarusError } from '@tartarus/core';
import type { ServerConfig } from '../config.js';
import type { ZodApp } from '../routes/types.js';

/** Installs the body parsers. */
export function installBodyParsers(app: ZodApp, config: ServerConfig): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(
        new InvalidArgumentError(
          `the body is not valid JSON (${(err as Error).message}); send a JSON object`,
        ),
        undefined,
      );
    }
  });
  // Raw bytes only where a route takes them (`config.bytes`): anywhere else the body is refused
  // before a byte of it is read, and where it is taken it is read up to the route's own limit
  // only — 413 the moment it passes (or at once, from Content-Length).
  app.addContentTypeParser('application/octet-stream', (req, payload, done) => {
    if (req.routeOptions.config.bytes !== true) {
      return done(new InvalidArgumentError('this call takes a JSON body, not raw bytes: send Content-Type: application/json'), undefined);
    }
    const limit = req.routeOptions.bodyLimit ?? config.fileLimitBytes;
    readCapped(payload, limit, Number(req.headers['content-length'] ?? NaN)).then(
      (body) => done(null, body),
      (err: Error) => done(err, undefined),
    );
  });
}

/** Reads a body up to `limit` bytes, failing with 413 as soon as it is (or says it will be) longer. */
function readCapped(payload: NodeJS.ReadableStream, limit: number, declared: number): Promise<Buffer> {
  const tooLarge = (): TartarusError =>
    new TartarusError('payload_too_large', `request body is larger than this call's limit of ${limit} bytes; send less`);
  if (declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    payload.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        payload.removeAllListeners('data');
        payload.resume();
        return reject(tooLarge());
      }
      chunks.push(c);
    });
    payload.on('end', () => resolve(Buffer.concat(chunks)));
    payload.on('error', reject);
  });
}
