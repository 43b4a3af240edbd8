/** `tartarus sandbox hibernate|wake ID`: save a microVM sandbox's memory and free it; start it again where it was. */
import type { Command } from 'commander';
import { lifecycleCommand } from './lifecycle.js';

/** Builds `tartarus sandbox hibernate`. */
export function hibernateCommand(): Command {
  return lifecycleCommand('hibernate', "save a sandbox's memory and free it (microvm); the next exec, file call or proxied connection wakes it", (s) => s.hibernate());
}

/** Builds `tartarus sandbox wake`. */
export function wakeCommand(): Command {
  return lifecycleCommand('wake', 'start a hibernated sandbox again where it was', (s) => s.wake());
}
