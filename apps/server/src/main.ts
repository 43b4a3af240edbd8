/**
 * `node apps/server/dist/main.js`: one control-plane server (no in-process agent), as a replica of
 * distributed mode runs it. Its configuration is the server's one schema (`config.ts`) plus the
 * store's location, read once at start-up from flags, else `TARTARUS_*` environment variables:
 * every option of the schema is a flag and a variable (`cpuOvercommit`: `--cpu-overcommit`,
 * `TARTARUS_CPU_OVERCOMMIT`; docs/reference/configuration.md lists them all), and
 *
 *   --store / TARTARUS_STORE            a SQLite file path or a postgres:// URL (required; also
 *                                       --database / TARTARUS_DATABASE, as `tartarus server` names it)
 *   --agent-token / TARTARUS_AGENT_TOKENS   agent secrets, comma-separated, each NODE_ID=TOKEN
 *                                       (bound to that node) or TOKEN (shared, for bootstrapping
 *                                       a trusted fleet); optional when every agent uses a node
 *                                       token issued with `tartarus nodes token create`
 *   --redis / TARTARUS_REDIS            distributed mode: redis://host:port (or rediss://, unix:///path)
 *                                       joining this replica to the others (routing, fan-out,
 *                                       shared rate limits); optional with one replica
 *
 * A bad value is one line naming the option, exit 2.
 */
import { parseArgs } from 'node:util';
import { parseArgsOptions, readConfigSources } from '@tartarus/core';
import { parseServerConfig, SERVER_OPTIONS, type ServerConfig, type ServerConfigInput } from './config.js';
import { createLogger } from './logging.js';
import { sharedTokenWarning, startServer } from './server.js';
import { openStore, type StoreOptions } from './store/index.js';
import { redisOptions } from './cluster/index.js';

function fail(message: string): never {
  console.error(`tartarus-server: ${message}`);
  process.exit(2);
}

/** Flags over environment, through the config schema. Throws InvalidArgumentError naming the option. */
export function configFrom(argv: string[], env: NodeJS.ProcessEnv): { config: ServerConfig; store: StoreOptions; redis?: string } {
  const { values } = parseArgs({ args: argv, options: { ...parseArgsOptions(SERVER_OPTIONS), store: { type: 'string' }, database: { type: 'string' }, redis: { type: 'string' } }, strict: true });
  const config = readConfigSources(SERVER_OPTIONS, values, env) as ServerConfigInput;
  const where = values.store ?? values.database ?? (env.TARTARUS_STORE || env.TARTARUS_DATABASE);
  if (where === undefined || where === '') fail('--database (or TARTARUS_DATABASE) is required: a postgres:// URL or a SQLite file path');
  const store: StoreOptions = /^postgres(ql)?:\/\//.test(where)
    ? { backend: 'postgres', connectionString: where }
    : { backend: 'sqlite', path: where };
  const redis = values.redis ?? (env.TARTARUS_REDIS || undefined);
  if (redis !== undefined) redisOptions(redis);
  return { config: parseServerConfig(config), store, ...(redis === undefined ? {} : { redis }) };
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
  const log = createLogger(parsed.config.logLevel);
  // PostgreSQL: a connection that breaks (the database restarting) is logged, once per outage.
  const store = await openStore(parsed.store.backend === 'postgres' ? { ...parsed.store, log } : parsed.store);
  const server = await startServer({ store, config: parsed.config, log, ...(parsed.redis === undefined ? {} : { redis: parsed.redis }) });
  console.error(`tartarus-server listening on ${server.url}`);
  process.on('SIGTERM', () => {
    void server
      .close()
      .then(() => store.close())
      .then(() => process.exit(0));
  });
}
