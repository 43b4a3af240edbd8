// Where the built dashboard is, for the server that serves it at `/` (apps/server/src/http/web.ts).
import { fileURLToPath } from 'node:url';

/** Absolute path of the built dashboard (index.html, app.js, app.css), with a trailing slash. */
export const webDistDir = fileURLToPath(new URL('./dist/', import.meta.url));
