/**
 * The two processes on a networked sandbox's create path — `tt-layer netns …` and `nft -f -` —
 * started ahead of need, as the runtime processes are (drivers/shared/prespawn.ts): spawning from
 * the host's large process costs it milliseconds of its own time, which the sandbox would wait for.
 * Each call hands a waiting one its work on stdin and spawns the next one later.
 */
import { Prespawner } from '../drivers/shared/prespawn.js';
import type { ProcessHandle, StartOptions } from '../process/run.js';
import { NET_TOOL_TIMEOUT_MS } from './host.js';

const OPTIONS: StartOptions = { env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' }, stdin: 'pipe', maxOutputBytes: 64 * 1024 };

/** Waits for `proc` (killed past the timeout); throws with its stderr when it failed. */
async function finish(proc: ProcessHandle, what: string): Promise<void> {
  const timer = setTimeout(() => proc.kill('SIGKILL'), NET_TOOL_TIMEOUT_MS);
  try {
    const r = await proc.wait();
    if (r.exitCode !== 0) {
      const why = r.spawnError?.message ?? (r.stderr.toString('utf8').trim().split('\n').slice(-2).join('; ') || `exit ${r.exitCode ?? r.signal ?? '?'}`);
      throw new Error(`${what} failed: ${why}`);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Waiting `tt-layer` and `nft` processes of one Runtime. */
export class NetTools {
  private readonly layer = new Prespawner(OPTIONS);
  private readonly nftProc = new Prespawner(OPTIONS, ['nft', '-f', '-']);

  /** `tt-layer ARGS…` (e.g. `netns BASE PATH …`). */
  layerRun(args: string[]): Promise<void> {
    return finish(this.layer.start(args), `tt-layer ${args[0] ?? ''}`);
  }

  /** `nft -f -` of `script`. */
  nft(script: string): Promise<void> {
    return finish(this.nftProc.startWith(script, true), 'nft -f -');
  }

  close(): void {
    this.layer.close();
    this.nftProc.close();
  }
}
