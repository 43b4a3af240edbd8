/**
 * A host process that starts a long-lived sandbox and dies (SIGKILL) without cleaning up: what
 * orphan collection (gc/owners.ts) is there for.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Egress } from '@tartarus/core';
import type { RuntimeName } from '../driver.js';
import { testTemplateDir } from './runtime.js';

const RUNTIME_JS = new URL('../runtime.js', import.meta.url).href;

const CHILD = `
import { Runtime } from ${JSON.stringify(RUNTIME_JS)};
const [stateDir, templateDir, runtime, id, egress] = process.argv.slice(1);
const sb = await new Runtime({ stateDir, templateDir }).createSandbox({ id, template: 'busybox', runtime, command: ['sleep', '600'], ...(egress ? { egress: JSON.parse(egress) } : {}) });
await sb.start();
process.stdout.write('started\\n');
process.kill(process.pid, 'SIGKILL');
`;

/** Starts sandbox `id` (busybox, `sleep 600`, with `egress` if given) from a Runtime on `stateDir` in a child process that then dies. */
export function startAndDie(stateDir: string, runtime: RuntimeName, id: string, egress?: Egress): void {
  const argv = [stateDir, testTemplateDir(), runtime, id, ...(egress === undefined ? [] : [JSON.stringify(egress)])];
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, ...argv], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.stdout, 'started\n', child.stderr);
}
