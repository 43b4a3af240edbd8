// `tartarus up` as a user runs it: prints the admin key once, serves the CLI through its data
// dir, and shuts down cleanly on SIGTERM.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cli, serverSkipReason } from './cli-test-helpers.js';

/** Starts `tartarus up` and resolves with its output once it says it is up. */
function startUp(dataDir: string, flags: string[] = []): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'up', '--data-dir', dataDir, '--port', '0', ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', () => {
      if (out.includes('Try: ')) resolve({ child, output: () => out });
    });
    child.on('exit', (code) => reject(new Error(`tartarus up exited ${code}: ${out}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('tartarus up', { skip: serverSkipReason() }, () => {
  test('prints the admin key on first start only, serves the CLI, stops cleanly on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tartarus-up-test-'));
    let child: ChildProcess | undefined;
    try {
      const first = await startUp(dataDir);
      child = first.child;
      const key = /Admin API key[^\n]*\n\s+(tt_\S+)/.exec(first.output())?.[1];
      assert.ok(key, first.output());
      const r = await cli(['run', '--', 'echo', 'via data dir'], { TARTARUS_DATA_DIR: dataDir });
      assert.deepEqual([r.status, r.stdout], [0, 'via data dir\n']);
      assert.equal(await stop(child), 0);
      assert.match(first.output(), /SIGTERM: shutting down[\s\S]*stopped\n$/);

      const second = await startUp(dataDir);
      child = second.child;
      assert.doesNotMatch(second.output(), /tt_/);
      assert.match(second.output(), /admin API key is in/);
      const again = await cli(['runs', 'ls', '--json'], { TARTARUS_DATA_DIR: dataDir });
      assert.equal((JSON.parse(again.stdout) as { items: unknown[] }).items.length, 1);
      assert.equal(await stop(child), 0);
    } finally {
      if (child) await stop(child);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  // The timeout only catches a hang (before, `up` did not exit at all with a live sandbox); how
  // fast it exits is not asserted here.
  test('SIGTERM with a live sandbox, a follower and a run in flight: exits at once and says what it left', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tartarus-up-test-'));
    let child: ChildProcess | undefined;
    try {
      const up = await startUp(dataDir);
      child = up.child;
      const env = { TARTARUS_DATA_DIR: dataDir };
      const sbx = await cli(['sandbox', 'create', '--timeout', '10m', '--json'], env);
      assert.equal(sbx.status, 0, sbx.stderr);
      const id = (JSON.parse(sbx.stdout) as { id: string }).id;
      const run = await cli(['run', '--detach', '--', 'sleep', '30'], env);
      const follower = spawn(process.execPath, [BIN, 'runs', 'logs', '--follow', run.stdout.trim()], { env: { ...process.env, ...env }, stdio: 'ignore' });
      const exited = new Promise((r) => follower.once('exit', r));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await stop(child), 0);
      assert.match(up.output(), new RegExp(`left \\d+ sandbox\\(es\\) running[\\s\\S]*${id}  ends by itself at `));
      await exited;

      // The next start re-adopts the sandbox; --stop-sandboxes ends it on the way out.
      const again = await startUp(dataDir, ['--stop-sandboxes']);
      child = again.child;
      const exec = await cli(['sandbox', 'exec', id, '--', 'echo', 'still here'], env);
      assert.deepEqual([exec.status, exec.stdout], [0, 'still here\n'], exec.stderr);
      assert.equal(await stop(child), 0);
      assert.match(again.output(), /ended \d+ sandbox\(es\)\nstopped\n$/);
    } finally {
      if (child) await stop(child);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('tartarus gc reports what it removed, as text and JSON', async () => {
    const json = await cli(['gc', '--json'], {});
    assert.equal(json.status, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { sandboxes: string[]; processes: number };
    assert.ok(Array.isArray(parsed.sandboxes) && typeof parsed.processes === 'number');
    const text = await cli(['gc'], {});
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^(nothing to remove|removed \d+ orphaned sandbox)/);
  });

  test('a warm pool naming an unknown template is refused at start with a one-line error', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tartarus-up-test-'));
    try {
      const r = await cli(['up', '--data-dir', dataDir, '--port', '0', '--pool', 'pyton:container:2'], {});
      assert.equal(r.status, 1);
      assert.equal(r.stderr, 'error: unknown template "pyton": use one of busybox, debian, python\n');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
