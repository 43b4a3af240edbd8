/**
 * Which requests the port proxy takes, and where they go: path-based
 * `/v1/sandboxes/ID/ports/PORT/REST` (REST and the query go to the sandbox, the prefix is
 * stripped) and, when the server has a `proxyDomain`, host-based `PORT-ID.<domain>` (every path).
 * In a host name the id's `_` is written `-` (`8080-sbx-0mx4…`): host labels take no `_`. Pure.
 */

/** A request for a sandbox's port. */
export interface ProxyTarget {
  sandboxId: string;
  port: number;
  /** Path and query to send to the sandbox (the access-token parameter removed). */
  path: string;
  /** The access token given as `?tt_token=`, if any. */
  queryToken: string | null;
}

/** Query parameter a browser can carry an access token in (removed before forwarding). */
export const TOKEN_PARAM = 'tt_token';
/** Header carrying an access token. */
export const TOKEN_HEADER = 'x-tartarus-access-token';

const PATH = /^\/v1\/sandboxes\/([a-z]+_[a-z0-9]+)\/ports\/(\d{1,5})(\/[^?]*)?(\?.*)?$/;
const HOST_LABEL = /^(\d{1,5})-([a-z]+)-([a-z0-9]+)$/;

function port(text: string): number | null {
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : null;
}

/** Splits the access token off a query string (`?a=1&tt_token=x` → `?a=1`, `x`). */
function takeToken(query: string): { query: string; token: string | null } {
  if (!query) return { query: '', token: null };
  const params = new URLSearchParams(query.slice(1));
  const token = params.get(TOKEN_PARAM);
  if (token === null) return { query, token: null };
  params.delete(TOKEN_PARAM);
  const rest = params.toString();
  return { query: rest ? `?${rest}` : '', token };
}

/** The target of a request, or null when it is not for the proxy. */
export function matchProxy(url: string, host: string | undefined, domain: string | null): ProxyTarget | null {
  if (domain !== null && host !== undefined) {
    const name = host.toLowerCase().replace(/:\d+$/, '');
    if (name.endsWith(`.${domain}`)) {
      const m = HOST_LABEL.exec(name.slice(0, -domain.length - 1));
      const p = m ? port(m[1] ?? '') : null;
      if (m && p !== null) {
        const q = url.indexOf('?');
        const { query, token } = takeToken(q < 0 ? '' : url.slice(q));
        return { sandboxId: `${m[2]}_${m[3]}`, port: p, path: `${q < 0 ? url : url.slice(0, q)}${query}`, queryToken: token };
      }
    }
  }
  const m = PATH.exec(url);
  const p = m ? port(m[2] ?? '') : null;
  if (!m || p === null) return null;
  const { query, token } = takeToken(m[4] ?? '');
  return { sandboxId: m[1] ?? '', port: p, path: `${m[3] || '/'}${query}`, queryToken: token };
}

/** The URLs of a sandbox's port: path-based on `base`, and host-based when there is a domain. */
export function portUrls(base: string, domain: string | null, sandboxId: string, p: number): { url: string; hostUrl: string | null } {
  const u = new URL(base);
  const hostUrl = domain === null ? null : `${u.protocol}//${p}-${sandboxId.replace('_', '-')}.${domain}${u.port ? `:${u.port}` : ''}/`;
  return { url: `${u.origin}/v1/sandboxes/${sandboxId}/ports/${p}/`, hostUrl };
}
