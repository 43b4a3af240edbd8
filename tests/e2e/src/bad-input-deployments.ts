/** Bad-input rows of `/v1/deployments`: specs refused with the field and the line, unknown deployments, bad scale, events and exec. */
import type { Fixture, Row } from './bad-input-table.js';

const SPEC = 'version: v1\ndeployment: demo\nservices:\n  web:\n    image:\n      name: template:busybox\n';

/** The deployment rows. */
export function deploymentRows(f: Fixture): Row[] {
  const { admin } = f;
  const apply = (name: string, spec: string, says: RegExp, extra: Record<string, unknown> = {}): Row => ({
    name,
    method: 'POST',
    path: '/v1/deployments',
    key: admin,
    expect: 400,
    says,
    options: { body: { spec, file: 'd.yaml', ...extra } },
  });
  return [
    apply('deployment spec with an unknown field', `${SPEC}    replicaz: 2\n`, /d\.yaml:7.*services\.web.*replicaz/),
    apply('deployment spec that is not YAML', 'version: [v1', /d\.yaml/),
    apply('deployment spec of another version', SPEC.replace('v1', 'v9'), /version/),
    apply('deployment spec naming a missing $E: variable', `${SPEC}    env:\n      TOKEN: $E:NOT_SET_ANYWHERE\n`, /NOT_SET_ANYWHERE/),
    apply('deployment spec naming a secret that does not exist', `${SPEC}    env:\n      TOKEN: $S:no-such-secret\n`, /no-such-secret/),
    { name: 'deployment that does not exist', method: 'GET', path: '/v1/deployments/nosuch', key: admin, expect: 404, says: /deployment nosuch not found/ },
    { name: 'scale of a deployment that does not exist', method: 'POST', path: '/v1/deployments/nosuch/services/web/scale', key: admin, expect: 404, says: /not found/, options: { body: { replicas: 1 } } },
    { name: 'scale to a negative count', method: 'POST', path: '/v1/deployments/nosuch/services/web/scale', key: admin, expect: 400, says: /replicas must be at least 0/, options: { body: { replicas: -1 } } },
    { name: 'trigger with a bad wait', method: 'POST', path: '/v1/deployments/nosuch/services/job/trigger?wait=maybe', key: admin, expect: 400, says: /wait/ },
    { name: 'deployment name with a space', method: 'GET', path: '/v1/deployments/a%20b', key: admin, expect: 400, says: /deployment name/ },
    { name: 'events of a deployment that does not exist', method: 'GET', path: '/v1/deployments/nosuch/events', key: admin, expect: 404, says: /deployment nosuch not found/ },
    { name: 'deployment events after a bad id', method: 'GET', path: '/v1/deployments/nosuch/events?after=x', key: admin, expect: 400, says: /after must be an event id/ },
    { name: 'deployment events of a type not about deployments', method: 'GET', path: '/v1/deployments/nosuch/events?types=run.finished', key: admin, expect: 400, says: /deployment event types/ },
    { name: 'deployment events stream resumed from a bad id', method: 'GET', path: '/v1/deployments/nosuch/events', key: admin, expect: 404, says: /not found/, options: { headers: { accept: 'text/event-stream', 'last-event-id': 'x' } } },
    { name: 'exec in a deployment that does not exist', method: 'POST', path: '/v1/deployments/nosuch/services/web/exec', key: admin, expect: 404, says: /deployment nosuch not found/, options: { body: { argv: ['true'] } } },
    { name: 'exec with both argv and command', method: 'POST', path: '/v1/deployments/nosuch/services/web/exec', key: admin, expect: 400, says: /exactly one of argv/, options: { body: { argv: ['true'], command: 'true' } } },
    { name: 'exec in a replica that is not a run id', method: 'POST', path: '/v1/deployments/nosuch/services/web/exec', key: admin, expect: 400, says: /replica must be a run id/, options: { body: { argv: ['true'], replica: 'a b' } } },
    { name: 'exec with an unknown field', method: 'POST', path: '/v1/deployments/nosuch/services/web/exec', key: admin, expect: 400, says: /replicas/, options: { body: { argv: ['true'], replicas: 2 } } },
  ];
}
