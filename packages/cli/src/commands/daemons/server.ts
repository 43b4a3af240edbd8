/**
 * `tartarus server`: one control-plane replica of distributed mode, in the foreground, without an
 * agent: the server's own entry (`node apps/server/dist/main.js`) in this process. Stateless: its
 * state is in the database (PostgreSQL for several replicas), so any number of replicas behind a
 * load balancer serve the same platform. Its settings are the server's configuration, from flags
 * (passed through as given) over `TARTARUS_*` variables (docs/reference/configuration.md).
 *
 * `--create-admin-key` instead prepares a fresh database once (the default tenant) and prints a
 * new admin API key: a replica makes no key of its own, unlike `tartarus up`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { StoreOptions } from '@tartarus/server';
import { UsageError } from '../../errors.js';
import { entryOf, runEntry } from './entry.js';

interface ServerOptions {
  database?: string;
  createAdminKey?: boolean;
}

/** What `--create-admin-key` uses of the server's entry module: its reading of flags and variables. */
interface ServerEntry {
  configFrom(argv: string[], env: NodeJS.ProcessEnv): { store: StoreOptions };
}

/** Makes the default tenant (when missing) and a new admin key in the database `args` name; prints the key. */
async function createAdminKey(args: string[]): Promise<void> {
  const [{ openStore, bootstrap }, { configFrom }] = await Promise.all([
    import('@tartarus/server'),
    import(entryOf('@tartarus/server').href) as Promise<ServerEntry>,
  ]);
  let where: StoreOptions;
  try {
    where = configFrom(args, process.env).store;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const store = await openStore(where);
  // bootstrap() keeps the key it makes in a data dir; a replica has none, so it is printed instead.
  const dir = await mkdtemp(join(tmpdir(), 'tartarus-bootstrap-'));
  try {
    const { adminKey } = await bootstrap(store, dir);
    process.stderr.write('the default tenant is ready; a new admin API key (use it as TARTARUS_API_KEY), shown only now:\n');
    process.stdout.write(`${adminKey ?? ''}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await store.close();
  }
}

/** Builds `tartarus server`. */
export function serverCommand(): Command {
  return new Command('server')
    .description('run one server replica of distributed mode in the foreground (API, scheduler, agent endpoint; no local agent)')
    .option('--database <url>', 'the store: a postgres:// URL, shared by every replica (or a SQLite file for a lone replica; also $TARTARUS_DATABASE)')
    .option('--create-admin-key', 'instead of serving: make the default tenant in a fresh database and print a new admin API key, then exit')
    .argument('[server-flags...]', 'every other option of the server, passed as given: --redis URL, --host, --port, --token-secret, … (docs/reference/configuration.md; each also a TARTARUS_* variable)')
    .allowUnknownOption()
    .action(async (flags: string[], o: ServerOptions) => {
      const args = [...(o.database === undefined ? [] : ['--database', o.database]), ...flags];
      if (o.createAdminKey) return createAdminKey(args);
      await runEntry('@tartarus/server', args);
    });
}
