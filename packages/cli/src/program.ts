/** The command tree: one file per command under `commands/<noun>/<verb>.ts`, assembled here. */
import { Command } from 'commander';
import { upCommand } from './commands/up.js';
import { gcCommand } from './commands/gc.js';
import { validateCommand } from './commands/validate.js';
import { importCommand } from './commands/import/index.js';
import { deployCommand } from './commands/deploy/deploy.js';
import { deploymentCommands } from './commands/deploy/manage.js';
import { runCommand } from './commands/run.js';
import { sandboxCommand } from './commands/sandbox/index.js';
import { runsCommand } from './commands/runs/index.js';
import { templatesCommand } from './commands/templates/index.js';
import { registriesCommand } from './commands/registries/index.js';
import { networkPoliciesCommand } from './commands/network-policies/index.js';
import { snapshotsCommand } from './commands/snapshots/index.js';
import { nodesCommand } from './commands/nodes/index.js';
import { keysCommand } from './commands/keys/index.js';
import { tenantsCommand } from './commands/tenants/index.js';
import { auditCommand } from './commands/audit/index.js';
import { usageCommand } from './commands/usage.js';
import { eventsCommand } from './commands/events.js';
import { secretsCommand } from './commands/secrets/index.js';
import { webhooksCommand } from './commands/webhooks/index.js';
import { integrationsCommand } from './commands/integrations/index.js';
import { logsCommand } from './commands/logs/index.js';
import { daemonCommands } from './commands/daemons/index.js';

/** Builds the `tartarus` program. */
export function buildProgram(): Command {
  const program = new Command('tartarus')
    .description('Run untrusted code in isolated sandboxes (containers, gVisor, microVMs).')
    .option(
      '--data-dir <dir>',
      'data dir of a local `tartarus up` (default: $TARTARUS_DATA_DIR or ~/.tartarus)',
    )
    .addHelpText(
      'after',
      '\nConnection: TARTARUS_URL and TARTARUS_API_KEY when set; otherwise the server that `tartarus up`\nrecorded in its data dir. Set TARTARUS_DEBUG=1 to see stack traces.',
    )
    .addCommand(upCommand())
    .addCommand(gcCommand())
    .addCommand(validateCommand())
    .addCommand(importCommand())
    .addCommand(deployCommand())
    .addCommand(runCommand())
    .addCommand(sandboxCommand())
    .addCommand(runsCommand())
    .addCommand(templatesCommand())
    .addCommand(registriesCommand())
    .addCommand(networkPoliciesCommand())
    .addCommand(snapshotsCommand())
    .addCommand(nodesCommand())
    .addCommand(keysCommand())
    .addCommand(tenantsCommand())
    .addCommand(auditCommand())
    .addCommand(usageCommand())
    .addCommand(eventsCommand())
    .addCommand(secretsCommand())
    .addCommand(webhooksCommand())
    .addCommand(integrationsCommand())
    .addCommand(logsCommand());
  for (const c of deploymentCommands()) program.addCommand(c);
  for (const c of daemonCommands()) program.addCommand(c);
  return program;
}
