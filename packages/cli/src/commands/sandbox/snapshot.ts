/** `tartarus sandbox snapshot ID` and `tartarus sandbox fork ID [--count N]`: keep a sandbox's files; start copies of it. */
import { Command, InvalidArgumentError as FlagError } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** Builds `tartarus sandbox snapshot`. */
export function snapshotCommand(): Command {
  const cmd = new Command('snapshot')
    .description("keep a running sandbox's files as a snapshot; prints its id (start from it with create --snapshot ID)")
    .argument('<id>', 'sandbox id')
    .option('--memory', 'keep its memory and processes too (microvm, egress none)');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean; memory?: boolean }>(self);
    const snap = await (await (await connect(o.dataDir)).sandboxes.connect(id)).snapshot({ memory: o.memory === true });
    if (o.json) printJson(snap);
    else process.stdout.write(`${snap.id}\n`);
  });
}

function countFlag(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 50) throw new FlagError('give a whole number of copies from 1 to 50, e.g. --count 3');
  return n;
}

/** Builds `tartarus sandbox fork`. */
export function forkCommand(): Command {
  const cmd = new Command('fork')
    .description("start copies of a running sandbox from its files as they are now; prints their ids")
    .argument('<id>', 'sandbox id')
    .option('--count <n>', 'how many copies (default 1)', countFlag)
    .option('--memory', 'copies of its memory and processes too (microvm, egress none)');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean; count?: number; memory?: boolean }>(self);
    const copies = await (await (await connect(o.dataDir)).sandboxes.connect(id)).fork(o.count ?? 1, { memory: o.memory === true });
    if (o.json) printJson(copies.map((c) => c.info));
    else process.stdout.write(copies.map((c) => `${c.id}\n`).join(''));
  });
}
