import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFrom } from './main.js';

test('server config: flags over environment, parsed once through the config schema', () => {
  const { config, store } = configFrom(
    ['--port', '8080', '--placement', 'spread', '--audit-retention-ms', '86400000'],
    {
      TARTARUS_PORT: '9090',
      TARTARUS_STORE: 'postgres://db/tartarus',
      TARTARUS_AGENT_TOKENS: 'aaaaaaaaaaaaaaaaaaaa,node-b=bbbbbbbbbbbbbbbbbbbb',
      TARTARUS_CPU_OVERCOMMIT: '4',
      TARTARUS_RUN_LOG_RETENTION_MS: '3600000',
      TARTARUS_AUDIT_RETENTION_MS: '1000',
    },
  );
  assert.equal(config.port, 8080);
  assert.equal(config.placement, 'spread');
  assert.equal(config.cpuOvercommit, 4);
  assert.equal(config.memoryOvercommit, 1);
  assert.equal(config.runLogRetentionMs, 3_600_000);
  assert.equal(config.auditRetentionMs, 86_400_000);
  assert.deepEqual(config.agentTokens, [
    { nodeId: null, secret: 'aaaaaaaaaaaaaaaaaaaa' },
    { nodeId: 'node-b', secret: 'bbbbbbbbbbbbbbbbbbbb' },
  ]);
  assert.deepEqual(store, { backend: 'postgres', connectionString: 'postgres://db/tartarus' });
  assert.throws(
    () => configFrom(['--placement', 'random'], { TARTARUS_STORE: '/tmp/x.db' }),
    /server config placement/,
  );
  assert.equal(config.logLevel, 'info');
  assert.equal(config.logRequests, false);
  const logged = configFrom(['--log-level', 'warn', '--log-requests'], { TARTARUS_STORE: '/tmp/x.db' }).config;
  assert.deepEqual([logged.logLevel, logged.logRequests], ['warn', true]);
  assert.equal(configFrom([], { TARTARUS_STORE: '/tmp/x.db', TARTARUS_LOG_LEVEL: 'debug' }).config.logLevel, 'debug');
  assert.throws(() => configFrom(['--log-level', 'loud'], { TARTARUS_STORE: '/tmp/x.db' }), /logLevel must be one of fatal, error, warn, info, debug, trace, silent/);
});

test('every option of the server config is a flag and a variable, converted by its type', () => {
  const { config } = configFrom(['--memory-overcommit', '2', '--proxy-domain', 'sbx.example.com', '--observability'], {
    TARTARUS_STORE: '/tmp/x.db',
    TARTARUS_OBSERVABILITY: '0',
    TARTARUS_HEARTBEAT_INTERVAL_MS: '500',
    TARTARUS_LOG_REQUESTS: 'true',
  });
  assert.equal(config.memoryOvercommit, 2);
  assert.equal(config.proxyDomain, 'sbx.example.com');
  assert.equal(config.observability, true, 'the flag wins over the variable');
  assert.equal(config.heartbeatIntervalMs, 500);
  assert.equal(config.logRequests, true);
  assert.throws(() => configFrom(['--heartbeat-interval-ms', 'soon'], { TARTARUS_STORE: '/tmp/x.db' }), /--heartbeat-interval-ms must be a number, got "soon"/);
  assert.throws(() => configFrom([], { TARTARUS_STORE: '/tmp/x.db', TARTARUS_OBSERVABILITY: 'maybe' }), /TARTARUS_OBSERVABILITY must be 1 or 0/);
  assert.throws(() => configFrom(['--no-such-option'], { TARTARUS_STORE: '/tmp/x.db' }), /no-such-option/);
});
