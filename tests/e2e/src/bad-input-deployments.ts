/** Bad-input rows of `/v1/deployments`: specs refused with the field and the line, unknown deployments, bad scale. */
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
  ];
}
