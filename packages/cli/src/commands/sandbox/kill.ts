/** `tartarus sandbox kill ID`: kill a sandbox and delete its writable layer. */
import type { Command } from 'commander';
import { lifecycleCommand } from './lifecycle.js';

/** Builds `tartarus sandbox kill`. */
export function killCommand(): Command {
  return lifecycleCommand('kill', 'kill a sandbox and delete its writable layer', (s) => s.kill());
}
