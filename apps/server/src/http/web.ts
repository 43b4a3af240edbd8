/**
 * The web dashboard (`apps/web`, a single-page app that talks to the API through the SDK) at `/`:
 * its built files (`index.html`, `app.js`, `app.css`) are served as they are, and a page of the
 * app (`/runs/run_…`, reloaded or opened from a link) gets `index.html` — but only a GET that
 * accepts HTML and no route serves, outside the server's own paths (`/v1`, `/docs`,
 * `/openapi.json`, `/metrics`, `/healthz`, `/readyz`). So the API's answers never change: an
 * unknown `/v1` path is still a JSON 404, and port-proxy requests never reach the router at all
 * (the proxy sits in front of it, proxy/proxy.ts). A server whose dashboard is not built says so
 * at `/` in plain text.
 */
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodApp } from '../routes/types.js';

/** Paths the server owns besides `/v1/…`: never answered with the dashboard. */
const SERVER_PATHS = ['/v1', '/docs', '/openapi.json', '/metrics', '/healthz', '/readyz'];

/**
 * What the dashboard's HTML may load: its own files and API calls to this origin, nothing inline
 * but styles (the chart library sets style attributes). The API key lives in the page's
 * sessionStorage, so no script from elsewhere may ever run there.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Headers of every dashboard file: revalidate each time (names are not content-hashed), no
 * sniffing; the HTML's policy too (`path` may be a compressed copy, `index.html.br`).
 */
function fileHeaders(path: string): Record<string, string> {
  const headers: Record<string, string> = {
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  };
  if (/\.html(\.br|\.gz)?$/.test(path)) {
    headers['content-security-policy'] = CONTENT_SECURITY_POLICY;
    headers['x-frame-options'] = 'DENY';
  }
  return headers;
}

/**
 * The directory of the built dashboard, or null when it is not built. Found through the
 * `@tartarus/web` package (a workspace the server depends on), else next to this server's own
 * build (`apps/server/dist/http` → `apps/web/dist`).
 */
export async function findDashboardDir(): Promise<string | null> {
  let dir: string;
  try {
    dir = (await import('@tartarus/web')).webDistDir;
  } catch {
    dir = fileURLToPath(new URL('../../../web/dist/', import.meta.url));
  }
  const index = await stat(`${dir}/index.html`).catch(() => null);
  return index?.isFile() ? dir : null;
}

/** Whether a request no route served is for a page of the dashboard. */
export function isDashboardPage(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = req.url.split('?')[0] ?? '/';
  if (path === '/') return true;
  if (req.headers.upgrade !== undefined || !(req.headers.accept ?? '').includes('text/html'))
    return false;
  return !SERVER_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
}

/** How the server answers for the dashboard. */
export interface DashboardHandle {
  /** Where its files are, or null when it is not built. */
  dir: string | null;
  /** Answers a request `isDashboardPage` accepted: `index.html`, or a plain note that it is not built. */
  sendPage(reply: FastifyReply): Promise<FastifyReply>;
}

/**
 * Registers the dashboard's files (one route each, as they are at start-up: no wildcard route
 * that could shadow an API path) and returns what answers its pages from the not-found handler.
 * `dir`: where the built files are (default `findDashboardDir()`; null: not built).
 */
export async function installDashboard(
  app: ZodApp,
  options: { dir?: string | null } = {},
): Promise<DashboardHandle> {
  const dir = options.dir === undefined ? await findDashboardDir() : options.dir;
  if (dir === null) {
    return {
      dir,
      sendPage: async (reply) =>
        reply
          .code(404)
          .type('text/plain; charset=utf-8')
          .send(
            'The Tartarus dashboard is not built: run `npm run build` in the repository (it bundles ' +
              'apps/web into apps/web/dist), then restart the server. The API is at /v1, its ' +
              'reference at /docs.\n',
          ),
    };
  }
  await app.register(fastifyStatic, {
    root: dir,
    wildcard: false,
    decorateReply: false,
    cacheControl: false,
    // The build writes .br and .gz copies; a browser that accepts one gets it (app.js: ≈ 715 KiB, ≈ 180 KiB as brotli).
    preCompressed: true,
    setHeaders: (res, path) => {
      for (const [name, value] of Object.entries(fileHeaders(path))) res.setHeader(name, value);
    },
  });
  return {
    dir,
    async sendPage(reply) {
      const html = await readFile(`${dir}/index.html`);
      return reply
        .code(200)
        .headers(fileHeaders('index.html'))
        .type('text/html; charset=utf-8')
        .send(html);
    },
  };
}
