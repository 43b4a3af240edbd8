/**
 * `node apps/server/dist/main.js`: one control-plane server (no in-process agent), as a replica of
 * distributed mode runs it. Its configuration is the server's one schema (`config.ts`) plus the
 * store's location, read once at start-up from flags, else `TARTARUS_*` environment variables:
 * every option of the schema is a flag and a variable (`cpuOvercommit`: `--cpu-overcommit`,
 * `TARTARUS_CPU_OVERCOMMIT`; docs/reference/configuration.md lists them all), and
 *
 *   --store / TARTARUS_STORE            a SQLite file path or a postgres:// URL (required)
 *   --agent-token / TARTARUS_AGENT_TOKENS   agent secrets, comma-separated, each NODE_ID=TOKEN
 *                                       (bound to that node) or TOKEN (shared, for bootstrapping
 *                                       a trusted fleet); optional when every agent uses a node
 *                                       token issued with `tartarus nodes token create`
 *
 * A bad value is one line naming the option, exit 2.
 */
import { parseArgs } from 'node:util';
import { parseArgsOptions, readConfigSources } from '@tartarus/core';
import { parseServerConfig, SERVER_OPTIONS, type ServerConfig, type ServerConfigInput } from './config.js';
import { createLogger } from './logging.js';
import { sharedTokenWarning, startServer } from './server.js';
import { openStore, type StoreOptions } from './store/index.js';

function fail(message: string): never {
  console.error(`tartarus-server: ${message}`);
  process.exit(2);
}

/** Flags over environment, through the config schema. Throws InvalidArgumentError naming the option. */
export function configFrom(argv: string[], env: NodeJS.ProcessEnv): { config: ServerConfig; store: StoreOptions } {
  const { values } = parseArgs({ args: argv, options: { ...parseArgsOptions(SERVER_OPTIONS), store: { type: 'string' } }, strict: true });
  const config = readConfigSources(SERVER_OPTIONS, values, env) as ServerConfigInput;
  const where = values.store ?? env.TARTARUS_STORE;
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
