/**
 * `tartarus up`: the embedded platform (server, scheduler, a local agent, SQLite under the data
 * dir) in this process, until SIGINT/SIGTERM. The only command that does not go through the SDK.
 */
import { Command, Option } from 'commander';
import { resolveDataDir } from '../connection.js';
import { allOptions, portFlag } from '../options.js';

interface UpOptions {
  port: number;
  host: string;
  accel?: 'kvm' | 'tcg' | 'auto';
  pool?: string[];
  registryMirror?: string[];
  insecureRegistry?: string[];
  stopSandboxes?: boolean;
  logLevel?: string;
  lokiUrl?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Waits for SIGINT or SIGTERM; a second signal during shutdown exits at once. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130)).once('SIGTERM', () => process.exit(143));
      resolve(sig);
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
}

/** Builds `tartarus up`. */
export function upCommand(): Command {
  return new Command('up')
    .description(
      'start the embedded platform (server, scheduler, local agent) and run until Ctrl-C',
    )
    .addOption(
      new Option('--port <port>', 'TCP port to listen on (0: any free port)')
        .default(7070)
        .argParser(portFlag),
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addOption(
      new Option(
        '--accel <mode>',
        'microvm acceleration: kvm, tcg (software emulation) or auto (KVM if a test boot works)',
      ).choices(['kvm', 'tcg', 'auto']),
    )
    .option(
      '--pool <template:runtime:size>',
      'keep SIZE sandboxes of TEMPLATE on RUNTIME booted ahead, e.g. python:container:4; MIN-MAX sizes it from the forecast of its creates, e.g. python:container:1-8 (repeatable; also $TARTARUS_POOLS)',
      collect,
    )
    .option(
      '--registry-mirror <registry=mirror>',
      'pull REGISTRY\'s images from MIRROR first, e.g. docker.io=10.0.0.5:5000 (repeatable; also $TARTARUS_REGISTRY_MIRRORS)',
      collect,
    )
    .option(
      '--insecure-registry <host>',
      'reach this registry over plain HTTP (loopback ones always are; repeatable; also $TARTARUS_INSECURE_REGISTRIES)',
      collect,
    )
    .addOption(
      new Option(
        '--log-level <level>',
        "the platform's structured log on stderr (JSON lines: placements, starts, ends, failures, agents; also $TARTARUS_LOG_LEVEL)",
      )
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('warn'),
    )
    .option(
      '--loki-url <url>',
      "push runs' output, sandboxes' lifecycle lines and the structured log (at --log-level) to this Grafana Loki, e.g. http://127.0.0.1:3100 (also $TARTARUS_LOKI_URL)",
    )
    .option(
      '--stop-sandboxes',
      'on Ctrl-C/SIGTERM end every sandbox first (default: leave them running for the next `up`; also $TARTARUS_STOP_SANDBOXES=1)',
    )
    .action(async (_opts: UpOptions, cmd: Command) => {
      const opts = allOptions<UpOptions>(cmd);
      const dataDir = resolveDataDir(opts.dataDir);
      // Loaded only here: every other command starts without the server's dependencies (fastify, SQLite).
      const [{ startEmbedded, createLogger, LOG_LEVELS }, { parsePoolList }, { parseRegistrySettings }] = await Promise.all([
        import('@tartarus/server'),
        import('@tartarus/agent'),
        import('@tartarus/runtime'),
      ]);
      const pools = parsePoolList([...(opts.pool ?? []), process.env.TARTARUS_POOLS ?? ''].join(','));
      const registries = parseRegistrySettings(
        [...(opts.registryMirror ?? []), process.env.TARTARUS_REGISTRY_MIRRORS ?? ''].join(','),
        [...(opts.insecureRegistry ?? []), process.env.TARTARUS_INSECURE_REGISTRIES ?? ''].join(','),
      );
      const templateDir = process.env.TARTARUS_TEMPLATE_DIR || undefined;
      const lokiUrl = opts.lokiUrl || process.env.TARTARUS_LOKI_URL || undefined;
      const level = (cmd.getOptionValueSource('logLevel') === 'default' && process.env.TARTARUS_LOG_LEVEL) || opts.logLevel || 'warn';
      if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`TARTARUS_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
      const server = await startEmbedded({
        log: createLogger(level as (typeof LOG_LEVELS)[number]),
        dataDir,
        port: opts.port,
        host: opts.host,
        ...(templateDir ? { templateDir } : {}),
        ...(opts.accel ? { microvmAccel: opts.accel } : {}),
        ...(pools.length ? { pools } : {}),
        registries,
        ...(lokiUrl ? { server: { lokiUrl } } : {}),
      }).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
        throw new Error(
          `port ${opts.port} on ${opts.host} is in use (another \`tartarus up\`?): stop it or pick another with --port`,
        );
      });
      const out = process.stdout;
      out.write(`Tartarus is up at ${server.url} (data dir ${dataDir})\n`);
      out.write(`Dashboard: ${server.url}/ (sign in with an API key)\n`);
      if (server.adminKey) {
        out.write(
          `\nAdmin API key (shown once; also saved in ${dataDir}/admin-key, mode 0600):\n  ${server.adminKey}\n\n`,
        );
      } else {
        out.write(`The admin API key is in ${dataDir}/admin-key (the CLI reads it from there).\n`);
      }
      out.write('Try: npx tartarus run -- echo hello     (Ctrl-C stops the platform)\n');
      const sig = await untilSignal();
      const stopSandboxes = opts.stopSandboxes === true || process.env.TARTARUS_STOP_SANDBOXES === '1';
      out.write(`\n${sig}: shutting down${stopSandboxes ? ', ending every sandbox' : ''} (state is kept in ${dataDir})...\n`);
      const closed = await server.close({ destroySandboxes: stopSandboxes });
      if (stopSandboxes) out.write(`ended ${closed.destroyed} sandbox(es)\n`);
      else if (closed.left.length > 0) {
        out.write(`left ${closed.left.length} sandbox(es) running for the next \`up\` to re-adopt:\n`);
        for (const l of closed.left) {
          out.write(`  ${l.id}  ${l.timeoutAt === null ? 'no timeout' : `ends by itself at ${new Date(l.timeoutAt).toISOString()}`}\n`);
        }
      }
      out.write('stopped\n');
      // Sandboxes left running are children of this process (their stdio pipes would keep it
      // alive); they outlive it by design and are reached again by the next \`up\`.
      await new Promise<void>((resolve) => out.write('', () => resolve()));
      process.exit(0);
    });
}
