// Where deployments are addressed (pure): path- and host-routed matching, endpoint paths, the URLs shown; the proxy itself runs for real in tests/e2e deployment-endpoints.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deploymentUrls, matchDeployment, tenantTag, underPath } from './deployment-routing.js';
import { matchProxy } from './routing.js';

test('a deployment is addressed by path or, with a domain, by host; nothing else is taken', () => {
  const tag = tenantTag('ten_abc');
  assert.match(tag, /^[0-9a-f]{8}$/);
  assert.deepEqual(matchDeployment(`/d/shop--${tag}/api/x?q=1`, 'h', null), { deployment: 'shop', tenantTag: tag, path: '/api/x?q=1' });
  assert.deepEqual(matchDeployment(`/d/my--shop--${tag}`, 'h', null), { deployment: 'my--shop', tenantTag: tag, path: '/' });
  assert.deepEqual(matchDeployment('/a?b', `shop--${tag}.apps.example.com:8080`, 'apps.example.com'), { deployment: 'shop', tenantTag: tag, path: '/a?b' });
  assert.equal(matchDeployment('/d/shop/', 'h', null), null, 'no tenant tag');
  assert.equal(matchDeployment('/v1/deployments/shop', 'h', null), null);
  assert.equal(matchDeployment('/', `shop--${tag}.other.com`, 'apps.example.com'), null);
  // A sandbox's host label is never a deployment's, nor the other way round.
  assert.equal(matchDeployment('/', '8080-sbx-0mx4abc.apps.example.com', 'apps.example.com'), null);
  assert.equal(matchProxy('/', `8080-sbx--${tag}.apps.example.com`, 'apps.example.com'), null);
});

test('an endpoint path takes itself and what is under it, at a segment boundary', () => {
  assert.ok(underPath('/anything', null));
  assert.ok(underPath('/api', '/api'));
  assert.ok(underPath('/api/v1?x=1', '/api/'));
  assert.ok(!underPath('/apix', '/api'));
  assert.ok(underPath('/api?x', '/api'));
});

test("a deployment's URLs", () => {
  const tag = tenantTag('ten_abc');
  assert.deepEqual(deploymentUrls('http://127.0.0.1:7000', null, 'Shop', 'ten_abc'), { url: `http://127.0.0.1:7000/d/Shop--${tag}/`, hostUrl: null });
  assert.equal(deploymentUrls('https://api.example.com', 'apps.example.com', 'Shop', 'ten_abc').hostUrl, `https://shop--${tag}.apps.example.com/`);
});
