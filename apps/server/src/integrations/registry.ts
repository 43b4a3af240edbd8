/**
 * The plugins a server runs: the built-in ones (GitHub, Slack — written on the plugin SDK like
 * any other) and those loaded from the configured `pluginDir`, one module per entry (`x.js`,
 * `x.mjs`, or a directory with its package.json `main`), each exporting a plugin as `default`.
 * A module that is not a plugin, or a name twice, stops the start with a message naming the file.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '@tartarus/core';
import type { Plugin } from '@tartarus/plugin-sdk';
import { github } from './github/index.js';
import { slack } from './slack/index.js';

/** Plugins that ship with the server. */
export const BUILTIN_PLUGINS: readonly Plugin<unknown>[] = [github as Plugin<unknown>, slack as Plugin<unknown>];

const NAME = /^[a-z][a-z0-9-]{0,40}$/;

/** Throws unless `p` looks like a plugin (checked where it came from: `where`). */
function checkPlugin(p: unknown, where: string): Plugin<unknown> {
  const x = p as Partial<Plugin<unknown>> | undefined;
  const problem =
    x === undefined || x === null || typeof x !== 'object'
      ? 'it exports no plugin as default (export default definePlugin({...}))'
      : typeof x.name !== 'string' || !NAME.test(x.name)
        ? 'its name must be lower-case letters, digits and -, starting with a letter'
        : typeof x.configSchema?.safeParse !== 'function'
          ? 'its configSchema is not a zod schema'
          : x.routes !== undefined && !Array.isArray(x.routes)
            ? 'its routes are not a list'
            : x.events !== undefined && (!Array.isArray(x.events.types) || typeof x.events.handle !== 'function')
              ? 'its events need types (a list) and handle (a function)'
              : undefined;
  if (problem !== undefined) throw new InvalidArgumentError(`plugin ${where}: ${problem}`);
  return x as Plugin<unknown>;
}

/** The modules of `dir`, in name order. */
async function modulesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    throw new InvalidArgumentError(`pluginDir ${dir} cannot be read (${err.code ?? err.message})`);
  });
  const out: string[] = [];
  for (const e of entries.sort()) {
    const p = join(dir, e);
    if (/\.(m?js)$/.test(e)) out.push(p);
    else if ((await stat(p)).isDirectory()) out.push(p);
  }
  return out;
}

/** The built-in plugins, then those of `pluginDir` (if any). */
export async function loadPlugins(pluginDir: string | null): Promise<Plugin<unknown>[]> {
  const plugins = [...BUILTIN_PLUGINS];
  if (pluginDir !== null) {
    for (const path of await modulesIn(resolve(pluginDir))) {
      const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
      plugins.push(checkPlugin(mod.default, path));
    }
  }
  const seen = new Set<string>();
  for (const p of plugins) {
    if (seen.has(p.name)) throw new InvalidArgumentError(`two plugins are named ${p.name}: rename one`);
    seen.add(p.name);
  }
  return plugins;
}
