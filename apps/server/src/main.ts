/**
 * `node apps/server/dist/main.js`: one control-plane server (no in-process agent), as a replica of
 * distributed mode runs it. Its configuration is the server's one schema (`config.ts`) plus the
 * store's location, read once at start-up from flags, else `TARTARUS_*` environment variables:
 *
 *   --port / TARTARUS_PORT              default 7070
 *   --host / TARTARUS_HOST              default 127.0.0.1
 *   --store / TARTARUS_STORE            a SQLite file path or a postgres:// URL (required)
 *   --agent-token / TARTARUS_AGENT_TOKENS   agent secrets, comma-separated, each NODE_ID=TOKEN
 *                                       (bound to that node) or TOKEN (shared, for bootstrapping
 *                                       a trusted fleet); optional when every agent uses a node
 *                                       token issued with `tartarus nodes token create`
 *   --placement / TARTARUS_PLACEMENT    binpack | spread
 *   --cpu-overcommit / TARTARUS_CPU_OVERCOMMIT
 *   --run-log-retention-ms / TARTARUS_RUN_LOG_RETENTION_MS   default 604800000 (7 days): run
 *                                       output is deleted this long after its run ended
 *   --audit-retention-ms / TARTARUS_AUDIT_RETENTION_MS       default 7776000000 (90 days)
 *   --log-level / TARTARUS_LOG_LEVEL    fatal | error | warn | info (default) | debug | trace |
 *                                       silent: the structured log (JSON lines on stderr)
 *   --log-requests / TARTARUS_LOG_REQUESTS=1   every request in that log too
 *
 * A bad value is one line naming the option, exit 2.
 */
import { parseArgs } from 'node:util';
import { parseServerConfig, type ServerConfigInput } from './config.js';
import { createLogger, type LogLevel } from './logging.js';
import { sharedTokenWarning, startServer } from './server.js';
import { openStore, type StoreOptions } from './store/index.js';

const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  store: { type: 'string' },
  'agent-token': { type: 'string' },
  placement: { type: 'string' },
  'cpu-overcommit': { type: 'string' },
  'run-log-retention-ms': { type: 'string' },
  'audit-retention-ms': { type: 'string' },
  'log-level': { type: 'string' },
  'log-requests': { type: 'boolean' },
} as const;

function fail(message: string): never {
  console.error(`tartarus-server: ${message}`);
  process.exit(2);
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) fail(`${name} must be a number, got "${v}"`);
  return n;
}

/** Flags over environment, as the config schema's input. */
export function configFrom(argv: string[], env: NodeJS.ProcessEnv) {
  const { values } = parseArgs({ args: argv, options: FLAGS, strict: true });
  const pick = (flag: Exclude<keyof typeof FLAGS, 'log-requests'>, name: string): string | undefined => values[flag] ?? env[name];
  const port = num('--port', pick('port', 'TARTARUS_PORT'));
  const host = pick('host', 'TARTARUS_HOST');
  const tokens = pick('agent-token', 'TARTARUS_AGENT_TOKENS');
  const placement = pick('placement', 'TARTARUS_PLACEMENT');
  const over = num('--cpu-overcommit', pick('cpu-overcommit', 'TARTARUS_CPU_OVERCOMMIT'));
  const logsMs = num(
    '--run-log-retention-ms',
    pick('run-log-retention-ms', 'TARTARUS_RUN_LOG_RETENTION_MS'),
  );
  const auditMs = num(
    '--audit-retention-ms',
    pick('audit-retention-ms', 'TARTARUS_AUDIT_RETENTION_MS'),
  );
  const logLevel = pick('log-level', 'TARTARUS_LOG_LEVEL');
  const logRequests = values['log-requests'] === true || env.TARTARUS_LOG_REQUESTS === '1';
  const config: ServerConfigInput = {
    ...(logLevel === undefined ? {} : { logLevel: logLevel as LogLevel }),
    ...(logRequests ? { logRequests } : {}),
    ...(port === undefined ? {} : { port }),
    ...(host === undefined ? {} : { host }),
    ...(tokens === undefined ? {} : { agentTokens: tokens.split(',').filter((t) => t !== '') }),
    ...(placement === undefined ? {} : { placement: placement as 'binpack' }),
    ...(over === undefined ? {} : { cpuOvercommit: over }),
    ...(logsMs === undefined ? {} : { runLogRetentionMs: logsMs }),
    ...(auditMs === undefined ? {} : { auditRetentionMs: auditMs }),
  };
  const where = pick('store', 'TARTARUS_STORE');
  if (where === undefined || where === '') fail('--store (or TARTARUS_STORE) is required');
  const store: StoreOptions = /^postgres(ql)?:\/\//.test(where)
    ? { backend: 'postgres', connectionString: where }
    : { backend: 'sqlite', path: where };
  return { config: parseServerConfig(config), store };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let parsed: ReturnType<typeof configFrom>;
  try {
    parsed = configFrom(process.argv.slice(2), process.env);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  const warning = sharedTokenWarning(parsed.config);
  if (warning !== null) console.error(`tartarus-server: warning: ${warning}`);
  const store = await openStore(parsed.store);
  const server = await startServer({ store, config: parsed.config, log: createLogger(parsed.config.logLevel) });
  console.error(`tartarus-server listening on ${server.url}`);
  process.on('SIGTERM', () => {
    void server
      .close()
      .then(() => store.close())
      .then(() => process.exit(0));
  });
}
