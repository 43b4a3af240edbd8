/** `tartarus audit`: the audit log. */
import { Command } from 'commander';
import { lsCommand } from './ls.js';

/** Builds `tartarus audit`. */
export function auditCommand(): Command {
  return new Command('audit').description('read the audit log').addCommand(lsCommand());
}
