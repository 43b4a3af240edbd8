/**
 * Body parsers: our own JSON parser (an empty body is "no body", and bad JSON gets a message that
 * says so) and raw bytes for file uploads. `text/plain` is not accepted, so a wrong Content-Type
 * is answered with what to send instead.
 */
import { InvalidArgumentError } from '@tartarus/core';
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
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: config.fileLimitBytes },
    (_req, body, done) => done(null, body),
  );
}
