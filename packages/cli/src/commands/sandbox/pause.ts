/** `tartarus sandbox pause ID`: freeze every process of a sandbox. */
import type { Command } from 'commander';
import { lifecycleCommand } from './lifecycle.js';

/** Builds `tartarus sandbox pause`. */
export function pauseCommand(): Command {
  return lifecycleCommand('pause', 'freeze every process of a sandbox', (s) => s.pause());
}
