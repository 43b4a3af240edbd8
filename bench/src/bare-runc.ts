/**
 * The baseline the API benchmark compares against: `runc run` of a command in a minimal OCI
 * bundle over a template's read-only root — no server, no queue, no overlay, no cgroup limits
 * beyond runc's defaults. Any benchmark that needs "bare runc" uses this.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '@tartarus/runtime';

/** A bundle directory for one argv over `rootfs`; `dispose()` removes it. */
export interface BareBundle {
  dir: string;
  dispose(): Promise<void>;
}

/** Writes a minimal bundle: runc's own default spec (`runc spec`) pointed at `rootfs`, read-only, no terminal. */
export async function makeBundle(
  rootfs: string,
  argv: string[],
  env: Record<string, string>,
): Promise<BareBundle> {
  const dir = await mkdtemp(join(tmpdir(), 'tartarus-bench-bundle-'));
  await runCommand(['runc', 'spec', '--bundle', dir], { timeoutMs: 10_000 });
  const spec = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as {
    process: { terminal: boolean; args: string[]; env: string[]; cwd: string };
    root: { path: string; readonly: boolean };
  };
  spec.process.terminal = false;
  spec.process.args = argv;
  spec.process.env = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  spec.process.cwd = '/';
  spec.root = { path: rootfs, readonly: true };
  await writeFile(join(dir, 'config.json'), JSON.stringify(spec));
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

let counter = 0;

/** `runc run` once in `bundle` (through the project's process runner); resolves with stdout, throws on a non-zero exit. */
export async function runcRun(bundle: BareBundle): Promise<string> {
  const id = `tartarus-bench-${process.pid}-${++counter}`;
  return (await runCommand(['runc', 'run', '--bundle', bundle.dir, id], { timeoutMs: 60_000 }))
    .stdout;
}
