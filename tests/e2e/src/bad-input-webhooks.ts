/** Bad-input rows of `/v1/webhooks`: URLs of the wrong kind or to refused destinations, bad types and secrets, unknown ids. */
import type { Fixture, Row } from './bad-input-table.js';

/** The webhook rows. */
export function webhookRows(f: Fixture): Row[] {
  const { admin } = f;
  const create = (name: string, body: unknown, says: RegExp): Row => ({ name, method: 'POST', path: '/v1/webhooks', key: admin, expect: 400, says, options: { body } });
  const types = ['run.finished'];
  return [
    create('webhook to an ftp URL', { url: 'ftp://files.example.com/x', types }, /scheme ftp is not allowed: use https/),
    create('webhook to a relative URL', { url: '/hook', types }, /absolute http/),
    create('webhook URL with credentials', { url: 'https://u:p@hooks.example.com/x', types }, /credentials/),
    create('webhook URL with a fragment', { url: 'https://hooks.example.com/x#y', types }, /fragment/),
    create('webhook URL of 3000 characters', { url: `https://hooks.example.com/${'a'.repeat(3000)}`, types }, /at most 2048/),
    create('webhook to cloud metadata', { url: 'http://169.254.169.254/latest/meta-data/', types }, /refused \(link-local\).*metadata/),
    create('webhook to the server itself', { url: 'http://127.0.0.1:7070/v1/runs', types }, /refused \(loopback\).*webhookAllowedDestinations/),
    create('webhook to localhost', { url: 'http://localhost/hook', types }, /refused \(loopback\)/),
    create('webhook to a private address', { url: 'http://10.89.0.7:8080/', types }, /refused \(private\)/),
    create('webhook to an IPv4-mapped metadata address', { url: 'http://[::ffff:169.254.169.254]/', types }, /refused \(link-local\)/),
    create('webhook without types', { url: 'https://93.184.216.34/x', types: [] }, /at least one event type/),
    create('webhook of an unknown event type', { url: 'https://93.184.216.34/x', types: ['run.exploded'] }, /types/),
    create('webhook naming a type twice', { url: 'https://93.184.216.34/x', types: ['run.finished', 'run.finished'] }, /twice/),
    create('webhook with a short secret', { url: 'https://93.184.216.34/x', types, secret: 'short' }, /at least 16 characters/),
    create('webhook with a secret with spaces', { url: 'https://93.184.216.34/x', types, secret: 'sixteen chars and more' }, /printable ASCII without spaces/),
    { name: 'webhook change of nothing', method: 'PATCH', path: '/v1/webhooks/whk_missing', key: admin, expect: 400, says: /at least one of url, types, enabled, secret/, options: { body: {} } },
    { name: 'webhook change to a loopback URL', method: 'PATCH', path: '/v1/webhooks/whk_missing', key: admin, expect: 400, says: /refused \(loopback\)/, options: { body: { url: 'http://127.0.0.1/' } } },
    { name: 'webhook change of enabled to a word', method: 'PATCH', path: '/v1/webhooks/whk_missing', key: admin, expect: 400, says: /enabled/, options: { body: { enabled: 'yes' } } },
    { name: 'unknown webhook', method: 'GET', path: '/v1/webhooks/whk_missing', key: admin, expect: 404, says: /webhook whk_missing not found/ },
    { name: 'unknown webhook changed', method: 'PATCH', path: '/v1/webhooks/whk_missing', key: admin, expect: 404, says: /not found/, options: { body: { enabled: true } } },
    { name: 'deliveries of an unknown webhook', method: 'GET', path: '/v1/webhooks/whk_missing/deliveries', key: admin, expect: 404, says: /not found/ },
    { name: 'deliveries in an unknown state', method: 'GET', path: '/v1/webhooks/whk_missing/deliveries?state=lost', key: admin, expect: 400, says: /state must be pending, succeeded or failed/ },
    { name: 'deliveries with limit 0', method: 'GET', path: '/v1/webhooks/whk_missing/deliveries?limit=0', key: admin, expect: 400, says: /limit/ },
    { name: 'redelivery of an unknown delivery', method: 'POST', path: '/v1/webhooks/whk_missing/deliveries/dlv_missing/redeliver', key: admin, expect: 404, says: /not found/ },
    { name: 'redelivery with a bad delivery id', method: 'POST', path: '/v1/webhooks/whk_missing/deliveries/bad%20id/redeliver', key: admin, expect: 400, says: /deliveryId/ },
    { name: 'ping of an unknown webhook', method: 'POST', path: '/v1/webhooks/whk_missing/ping', key: admin, expect: 404, says: /not found/ },
  ];
}
