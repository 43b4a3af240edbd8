/**
 * A minimal QEMU Machine Protocol client for pause/resume: connect to the VM's QMP socket, read
 * the greeting, negotiate capabilities, run one command, disconnect. One short connection per
 * command keeps no state to get wrong after a crash of this process.
 */
import { connect } from 'node:net';
import { InternalError } from '@tartarus/core';

/** Runs `command` (e.g. `stop`, `cont`, `query-status`) with `args` on the QMP socket at `path`; resolves with its `return`. */
export async function qmpCommand(
  path: string,
  command: string,
  timeoutMs = 5000,
  args?: Record<string, unknown>,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buf = '';
    let stage: 'greeting' | 'caps' | 'command' = 'greeting';
    const timer = setTimeout(
      () => finish(new InternalError(`QMP ${command} timed out on ${path}`)),
      timeoutMs,
    );
    const finish = (err: Error | null, value?: unknown): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    socket.on('error', (err) =>
      finish(new InternalError(`QMP ${command} failed on ${path}: ${err.message}`, { cause: err })),
    );
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as {
          QMP?: unknown;
          return?: unknown;
          error?: { desc?: string };
          event?: string;
        };
        if (msg.event) continue;
        if (msg.error)
          return finish(new InternalError(`QMP ${command}: ${msg.error.desc ?? 'error'}`));
        if (stage === 'greeting' && msg.QMP) {
          stage = 'caps';
          socket.write(JSON.stringify({ execute: 'qmp_capabilities' }) + '\n');
        } else if (stage === 'caps' && 'return' in msg) {
          stage = 'command';
          socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) }) + '\n');
        } else if (stage === 'command' && 'return' in msg) {
          return finish(null, msg.return);
        }
      }
    });
  });
}
