/**
 * A spec as the API receives it, to the plan the controller runs: parsed and checked (every error
 * names the field and the line), compiled with the deploying environment's `$E:` values, and its
 * `$S:` secrets checked to exist now rather than failing a replica later.
 */
import { InvalidArgumentError, loadDeployment, NotFoundError, type DeploymentPlan } from '@tartarus/core';
import type { ServerContext } from '../context.js';
import { initRefusal } from './init.js';

/** The plan of `text` (file `file`), or InvalidArgumentError saying what to change. */
export async function loadPlan(ctx: ServerContext, tenantId: string, text: string, file: string, env: Record<string, string>): Promise<DeploymentPlan> {
  const { plan } = loadDeployment(text, { file, env });
  for (const svc of plan.services) {
    const refused = initRefusal(svc);
    if (refused !== null) throw new InvalidArgumentError(`${file}: ${refused}`);
    for (const [name, v] of Object.entries(svc.env)) {
      if (!('secret' in v)) continue;
      await ctx.store.secrets.get(tenantId, v.secret).catch((err: unknown) => {
        if (err instanceof NotFoundError) throw new InvalidArgumentError(`${file}: services.${svc.name}.env.${name}: secret ${v.secret} does not exist: store it with tartarus secrets set ${v.secret}`);
        throw err;
      });
    }
  }
  return plan;
}

/** The replicas each service starts with: fixed's count, adaptive's minimum, manual's count. */
export function initialReplicas(plan: DeploymentPlan): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of plan.services) {
    if (s.kind !== 'service') continue;
    out[s.name] = s.scale.mode === 'adaptive' ? s.scale.min : s.scale.replicas;
  }
  return out;
}
