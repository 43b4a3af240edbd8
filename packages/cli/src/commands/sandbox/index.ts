/** `tartarus sandbox`: interactive sandboxes. */
import { Command } from 'commander';
import { createCommand } from './create.js';
import { lsCommand } from './ls.js';
import { getCommand } from './get.js';
import { execCommand } from './exec.js';
import { filesCommand } from './files/index.js';
import { pauseCommand } from './pause.js';
import { resumeCommand } from './resume.js';
import { hibernateCommand, wakeCommand } from './hibernate.js';
import { killCommand } from './kill.js';
import { terminateCommand } from './terminate.js';
import { forkCommand, snapshotCommand } from './snapshot.js';
import { egressCommand } from './egress.js';
import { urlCommand } from './url.js';

/** Builds `tartarus sandbox`. */
export function sandboxCommand(): Command {
  return new Command('sandbox')
    .alias('sandboxes')
    .description('create, inspect, exec into and kill sandboxes')
    .addCommand(createCommand())
    .addCommand(lsCommand())
    .addCommand(getCommand())
    .addCommand(execCommand())
    .addCommand(filesCommand())
    .addCommand(pauseCommand())
    .addCommand(resumeCommand())
    .addCommand(hibernateCommand())
    .addCommand(wakeCommand())
    .addCommand(killCommand())
    .addCommand(terminateCommand())
    .addCommand(snapshotCommand())
    .addCommand(forkCommand())
    .addCommand(egressCommand())
    .addCommand(urlCommand());
}
