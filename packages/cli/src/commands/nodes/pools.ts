/** `tartarus nodes pools`: the nodes' warm pools, their forecasts and their actual creates. */
import { Command, InvalidArgumentError } from 'commander';
import type { Pool, PoolInterval } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson, printTable } from '../../output.js';

function count(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('give a whole number ≥ 0, e.g. --intervals 24');
  return n;
}

const share = (x: number | null) => (x === null ? '-' : `${Math.round(x * 100)}%`);
const forecast = (i: PoolInterval) => (i.forecast === null ? '-' : `${i.forecast.mean.toFixed(1)} [${i.forecast.low.toFixed(1)}–${i.forecast.high.toFixed(1)}]`);

/** Builds `tartarus nodes pools`. */
export function poolsCommand(): Command {
  const cmd = new Command('pools')
    .description("list the nodes' warm pools: size, the forecast of this interval (90 % interval) and actual creates")
    .option('--intervals <n>', 'earlier intervals to report with --json (default 12)', count);
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean; intervals?: number }>(self);
    const list = await (await connect(o.dataDir)).nodes.pools(o.intervals === undefined ? {} : { intervals: o.intervals });
    if (o.json) return printJson(list);
    printTable<Pool>(list.items, [
      { header: 'node', get: (p) => p.nodeId },
      { header: 'pool', get: (p) => `${p.template}/${p.runtime}${p.network ? '' : ' (lo)'}` },
      { header: 'size', get: (p) => (p.autoscale ? `${p.size} (${p.autoscale.min}-${p.autoscale.max})` : `${p.size} (fixed)`) },
      { header: 'idle', get: (p) => String(p.idle) },
      { header: 'forecast', get: (p) => forecast(p.current) },
      { header: 'creates now', get: (p) => `${p.current.demand} (${p.current.hits} served)` },
      { header: 'last interval', get: (p) => (p.history[0] ? String(p.history[0].demand) : '-') },
      { header: 'coverage', get: (p) => share(p.coverage) },
      { header: 'hit rate', get: (p) => share(p.hitRate) },
    ]);
    if (list.unreachable.length) console.error(`nodes that did not answer: ${list.unreachable.join(', ')}`);
  });
}
