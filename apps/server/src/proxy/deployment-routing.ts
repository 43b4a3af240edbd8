/**
 * Where a deployment's public endpoints are: path-routed on the server's address,
 * `/d/<deployment>--<tag>/REST`, and, when the server has a `proxyDomain`, host-routed
 * `<deployment>--<tag>.<domain>` (every path). `tag` is 8 hex digits of the tenant's id hashed:
 * deployment names are the tenant's own, so two tenants' `shop` get two addresses, and a tenant's
 * id is not shown. Within a deployment, the request's path picks the endpoint (the longest
 * `path` it starts with; an endpoint without one takes every path) and is passed on as it came
 * (the `/d/…` prefix removed). Pure.
 */
import { createHash } from 'node:crypto';
import type { DeploymentEndpoint, DeploymentPlan } from '@tartarus/core';

/** A request for a deployment's public endpoints. */
export interface DeploymentTarget {
  deployment: string;
  tenantTag: string;
  /** Path and query to send on. */
  path: string;
}

const PATH = /^\/d\/([A-Za-z0-9][A-Za-z0-9-]*?)--([0-9a-f]{8})(\/[^?]*)?(\?.*)?$/;
const HOST_LABEL = /^([a-z0-9][a-z0-9-]*?)--([0-9a-f]{8})$/;

/** The tenant's tag in its deployments' addresses. */
export function tenantTag(tenantId: string): string {
  return createHash('sha256').update(tenantId).digest('hex').slice(0, 8);
}

/** The deployment a request is for, or null when it is not for one. */
export function matchDeployment(url: string, host: string | undefined, domain: string | null): DeploymentTarget | null {
  if (domain !== null && host !== undefined) {
    const name = host.toLowerCase().replace(/:\d+$/, '');
    if (name.endsWith(`.${domain}`)) {
      const m = HOST_LABEL.exec(name.slice(0, -domain.length - 1));
      if (m) return { deployment: m[1] ?? '', tenantTag: m[2] ?? '', path: url };
    }
  }
  const m = PATH.exec(url);
  if (!m) return null;
  return { deployment: m[1] ?? '', tenantTag: m[2] ?? '', path: `${m[3] || '/'}${m[4] ?? ''}` };
}

/** Whether request path `path` (query and all) is under endpoint path `prefix` (null: every path). */
export function underPath(path: string, prefix: string | null): boolean {
  if (prefix === null || prefix === '/' || prefix === '') return true;
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const bare = path.split('?')[0] ?? '';
  return bare === p || bare.startsWith(`${p}/`);
}

/** The public URLs of a deployment: path-routed on `base`, and host-routed when there is a domain. */
export function deploymentUrls(base: string, domain: string | null, name: string, tenantId: string): { url: string; hostUrl: string | null } {
  const u = new URL(base);
  const label = `${name.toLowerCase()}--${tenantTag(tenantId)}`;
  const hostUrl = domain === null ? null : `${u.protocol}//${label}.${domain}${u.port ? `:${u.port}` : ''}/`;
  return { url: `${u.origin}/d/${name}--${tenantTag(tenantId)}/`, hostUrl };
}

/** Each endpoint of a deployment with its URLs: public HTTP ones through the proxy, public TCP/UDP ones on their port (`tcp://host:port`); null for internal ones. */
export function endpointsOf(plan: DeploymentPlan, tenantId: string, base: string, domain: string | null): DeploymentEndpoint[] {
  const { url, hostUrl } = deploymentUrls(base, domain, plan.name, tenantId);
  const under = (root: string, path: string | null): string => `${root}${(path ?? '/').replace(/^\//, '')}`;
  return plan.services.flatMap((s) =>
    s.endpoints.map((e) => {
      const http = e.expose === 'public' && (e.protocol === 'http' || e.protocol === 'https' || e.protocol === 'websocket');
      const published = e.expose === 'public' && !http ? `${e.protocol}://${new URL(base).hostname}:${e.port}` : null;
      return { service: s.name, name: e.name, protocol: e.protocol, expose: e.expose, port: e.port, targetPort: e.targetPort, path: e.path, url: http ? under(url, e.path) : published, hostUrl: http && hostUrl !== null ? under(hostUrl, e.path) : null };
    }),
  );
}
