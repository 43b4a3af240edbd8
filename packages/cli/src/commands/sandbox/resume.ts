/** `tartarus sandbox resume ID`: thaw a paused sandbox. */
import type { Command } from 'commander';
import { lifecycleCommand } from './lifecycle.js';

/** Builds `tartarus sandbox resume`. */
export function resumeCommand(): Command {
  return lifecycleCommand('resume', 'thaw a paused sandbox', (s) => s.resume());
}
