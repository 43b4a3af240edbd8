/**
 * docs/reference/configuration.md, generated (`npm run docs`) so that it cannot drift: every
 * option of the server's and the agent's config schemas with its flag, variable and type (from
 * the schemas, `configOptions`) and what it does (the option's own doc comment in the schema's
 * source, read with the TypeScript compiler's parser), then the other `TARTARUS_*` variables.
 * Used only by the docs script and its test: the TypeScript parser (a dev dependency) is never
 * loaded by a running server.
 */
import { readFile } from 'node:fs/promises';
import ts from 'typescript';
import type { ConfigOption } from '@tartarus/core';

/** Variables read outside the two schemas, and what they do. A test checks the source has no other. */
export const OTHER_VARIABLES: Record<string, string> = {
  TARTARUS_URL: 'Server the CLI and SDK talk to. Default: the one `tartarus up` recorded in its data dir, else `http://127.0.0.1:7070`.',
  TARTARUS_API_KEY: 'API key the CLI and SDK send. Default: the admin key `tartarus up` wrote in its data dir (CLI only).',
  TARTARUS_DATA_DIR: 'Data dir of `tartarus up` (store, runtime state, admin key, URL). Default `~/.tartarus`.',
  TARTARUS_DEBUG: '`1`: the CLI prints stack traces with its errors.',
  TARTARUS_STORE: 'The standalone server\'s store: a SQLite file path or a `postgres://` URL (also `--store`). Required there.',
  TARTARUS_DATABASE: 'The same as `TARTARUS_STORE`, by the name `tartarus server` gives it (also `--database`).',
  TARTARUS_REDIS: 'Distributed mode: the Redis (`redis://host:port[/db]`, `rediss://…`, `unix:///path`) that joins the standalone server to the other replicas (also `--redis`): routing to nodes held by another replica, the event fan-out, shared rate limits. Optional with one replica.',
  TARTARUS_BATTERY: 'Tests only: the reliability battery runs just these scenarios (comma-separated: agent-kills, replica-kill, partition, outages, poison, burst).',
  TARTARUS_BATTERY_KEEP: 'Tests only: `1` keeps the reliability battery\'s replica and agent logs in its temp dir.',
  TARTARUS_POOLS: 'Warm pools, `TEMPLATE:RUNTIME:SIZE[:net|lo][,…]`, of `tartarus up` (also `--pool`) and of a remote agent.',
  TARTARUS_LOG_LEVEL: 'Level of the structured log of `tartarus up` (also `--log-level`; default `warn`) and of the standalone server (default `info`).',
  TARTARUS_STOP_SANDBOXES: '`1`: `tartarus up` ends every sandbox when it stops (default: they keep running for the next `up`).',
  TARTARUS_TEMPLATE_DIR: 'Built-in templates\' cache. Default `/var/cache/tartarus/templates`.',
  TARTARUS_STATE_DIR: 'A remote agent\'s sandbox state; must survive restarts. Default `/var/lib/tartarus`.',
  TARTARUS_REGISTRY_MIRRORS: '`REGISTRY=MIRROR[,…]` (e.g. `docker.io=10.0.0.5:5000`): image pulls try the mirror first.',
  TARTARUS_INSECURE_REGISTRIES: '`HOST[,…]` reached over plain HTTP (loopback registries always are).',
  TARTARUS_NET_POOL: 'The sandboxes\' IPv4 pool on a node. Default `10.89.0.0/16`.',
  TARTARUS_NET_BRIDGE: 'The sandboxes\' host bridge on a node. Default `tt0`.',
  TARTARUS_NET_DENY: 'More destinations no sandbox may reach, `IPv4/CIDR[:port][,…]` (e.g. the control plane\'s replicas behind a load balancer); the server URL\'s address is always denied.',
  TARTARUS_MICROVM_ACCEL: 'microVM acceleration: `kvm`, `tcg` (QEMU software emulation) or `auto` (default: KVM when a test boot proves it works).',
  TARTARUS_MICROVM_DIR: 'Guest kernel, initramfs and microVM disk cache. Default `/var/cache/tartarus/microvm`.',
  TARTARUS_OWNERS_DIR: 'Where each process records the sandboxes it owns, for the collection of orphans. Default `/run/tartarus/owners`.',
};

/** Variables only the tests and benchmarks read (listed so the check knows them). */
export const TEST_VARIABLES = ['TARTARUS_REPO_ROOT', 'TARTARUS_PG_BIN', 'TARTARUS_CONFORMANCE_DRIVERS', 'TARTARUS_CONFORMANCE_CANARY', 'TARTARUS_WORKLOAD_CANARY'];

/** The doc comment of each key of the object literal that `variable` is built from, flattened to one line. */
export function optionComments(source: string, variable: string): Map<string, string> {
  const file = ts.createSourceFile('config.ts', source, ts.ScriptTarget.Latest, true);
  const out = new Map<string, string>();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && node.name.getText(file) === variable) {
      const literal = findObjectLiteral(node.initializer);
      for (const p of literal?.properties ?? []) {
        if (!ts.isPropertyAssignment(p)) continue;
        const text = ts
          .getJSDocCommentsAndTags(p)
          .map((d) => (ts.isJSDoc(d) ? (ts.getTextOfJSDocComment(d.comment) ?? '') : ''))
          .join(' ');
        out.set(p.name.getText(file), text.replace(/\s+/g, ' ').trim());
      }
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

/** The first object literal among a call's arguments (`z.strictObject({...})`). */
function findObjectLiteral(node: ts.Node | undefined): ts.ObjectLiteralExpression | undefined {
  if (node === undefined) return undefined;
  if (ts.isObjectLiteralExpression(node)) return node;
  let found: ts.ObjectLiteralExpression | undefined;
  ts.forEachChild(node, (c) => {
    found ??= findObjectLiteral(c);
  });
  return found;
}

const cell = (s: string): string => s.replaceAll('|', '\\|');

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

/** One schema's table; `withFlags` adds the flag column. Throws when an option has no doc comment. */
function optionTable(options: ConfigOption[], comments: Map<string, string>, withFlags: boolean): string {
  const rows = options.map((o) => {
    const doc = comments.get(o.key);
    if (!doc) throw new Error(`config option ${o.key} has no doc comment in its schema: write one`);
    return [`\`${o.key}\``, ...(withFlags ? [`\`--${o.flag}\``] : []), `\`${o.env}\``, o.type, doc];
  });
  return table(['Option', ...(withFlags ? ['Flag'] : []), 'Variable', 'Type', 'What it does'], rows);
}

/** The sources the reference is made from. */
export interface ConfigReferenceInput {
  serverOptions: ConfigOption[];
  serverSource: string;
  agentOptions: ConfigOption[];
  agentSource: string;
}

/** The whole reference as Markdown. */
export function configReference(i: ConfigReferenceInput): string {
  const others = Object.entries(OTHER_VARIABLES).map(([k, v]) => [`\`${k}\``, v]);
  return `# Configuration reference

Generated by \`npm run docs\` from the configuration schemas (\`apps/server/src/config.ts\`,
\`apps/agent/src/config.ts\`) and their doc comments: a test fails when this file differs from
what they say. Every option is checked once at start-up; a bad value is refused with one line
naming the option.

## Server

\`tartarus up\` runs the server (and an agent) with these defaults and its own flags (see
[the CLI reference](cli.md)). A standalone server replica (\`tartarus server\`, which runs
\`apps/server/dist/main.js\`) takes every option as a flag or an environment variable (the flag
wins), and needs \`--database\` / \`TARTARUS_DATABASE\` (also named \`--store\` /
\`TARTARUS_STORE\`): a SQLite file path or a \`postgres://\` URL. Lists are
comma-separated; booleans are \`1\`/\`0\` in a variable and a bare flag on the command line.

${optionTable(i.serverOptions, optionComments(i.serverSource, 'ServerConfigSchema'), true)}

## Agent

A remote agent (\`tartarus agent\`, which runs \`apps/agent/dist/main.js\`) takes every option as
an environment variable; \`serverUrl\`, \`token\` and \`nodeId\` are required (\`tartarus agent\`
also takes them as \`--server\`, an \`http(s)://\` address being enough, \`--token\` and
\`--node-id\`, which defaults to the host name). The agent of \`tartarus up\` uses the defaults
(its warm pools come from \`--pool\`). Defaults that depend on the machine (CPUs, memory, free
disk, host name) are read when the agent starts.

${optionTable(i.agentOptions, optionComments(i.agentSource, 'AgentConfigSchema'), false)}

## Other environment variables

${table(['Variable', 'What it does'], others)}
`;
}

/** The reference from the repository's own sources (for the docs script and its test). */
export async function repoConfigReference(root: URL, serverOptions: ConfigOption[], agentOptions: ConfigOption[]): Promise<string> {
  const [serverSource, agentSource] = await Promise.all([
    readFile(new URL('apps/server/src/config.ts', root), 'utf8'),
    readFile(new URL('apps/agent/src/config.ts', root), 'utf8'),
  ]);
  return configReference({ serverOptions, serverSource, agentOptions, agentSource });
}
