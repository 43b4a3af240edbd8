/** `tartarus registries`: the tenant's credentials for private image registries. */
import { Command } from 'commander';
import { loginCommand } from './login.js';
import { logoutCommand } from './logout.js';
import { lsCommand } from './ls.js';

/** Builds `tartarus registries`. */
export function registriesCommand(): Command {
  return new Command('registries')
    .alias('registry')
    .description('store, list and remove credentials for private image registries')
    .addCommand(loginCommand())
    .addCommand(lsCommand())
    .addCommand(logoutCommand());
}
