/**
 * The QEMU process of one microVM, either started here (a child of this process, supervised
 * through the process runner) or found by pid after a restart (adopted: watched by polling,
 * since it is no longer our child). The pid is checked against the VM's name in its command line
 * before any signal, so a recycled pid is never killed.
 */
import { readFile } from 'node:fs/promises';
import { startProcess, type ProcessHandle } from '../../process/run.js';

/** A running (or ended) QEMU. */
export class VmProcess {
  /** Resolves when QEMU has exited. */
  readonly exited: Promise<void>;
  private hasExited = false;

  private constructor(
    readonly pid: number,
    private readonly handle: ProcessHandle | undefined,
    exited?: Promise<void>,
  ) {
    this.exited = exited ?? (handle ? handle.wait().then(() => undefined) : pollExit(pid));
    void this.exited.then(() => (this.hasExited = true));
  }

  /** Starts QEMU from `argv`. Its stderr (kept to 64 KiB) explains a failed start. */
  static spawn(argv: string[], extraFds?: number[]): VmProcess {
    const handle = startProcess(argv, { maxOutputBytes: 64 * 1024, extraFds });
    if (handle.pid === undefined) return new VmProcess(-1, handle);
    return new VmProcess(handle.pid, handle);
  }

  /** Re-attaches to the QEMU of sandbox `id` whose pid is in `pidFile`; undefined when it is not running. */
  static async adopt(pidFile: string, id: string): Promise<VmProcess | undefined> {
    const pid = await vmPid(pidFile, id);
    return pid === undefined ? undefined : new VmProcess(pid, undefined);
  }

  /** No process: the QEMU of a hibernated VM (ended; started again at its wake). */
  static gone(): VmProcess {
    return new VmProcess(-1, undefined, Promise.resolve());
  }

  get running(): boolean {
    return !this.hasExited;
  }

  /** QEMU's own error output (started VMs only), for error messages. */
  async stderr(): Promise<string> {
    if (!this.handle) return '';
    const res = await Promise.race([
      this.handle.wait(),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)),
    ]);
    return res ? res.stderr.toString('utf8').trim() : '';
  }

  /** SIGKILLs QEMU and waits for it to be gone (≤ 5 s). Idempotent. */
  async kill(): Promise<void> {
    if (this.hasExited) return;
    if (this.handle) this.handle.kill('SIGKILL');
    else {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000))]);
  }
}

/** The pid in `pidFile` if that process is the QEMU of sandbox `id`. */
export async function vmPid(pidFile: string, id: string): Promise<number | undefined> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const args = cmdline.split('\0');
  const at = args.indexOf('-name');
  return at >= 0 && args[at + 1] === `tt-${id}` ? pid : undefined;
}

async function pollExit(pid: number): Promise<void> {
  for (;;) {
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // Gone, or a zombie waiting for its (former) parent to reap it: either way QEMU is no more.
    if (!state || / Z /.test(state)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}
