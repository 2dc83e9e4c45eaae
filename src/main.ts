import { Command } from 'commander';
import { accountCommands } from './cli/accounts.js';
import { backupCommands } from './cli/backups.js';
import { cloneCommand } from './cli/clone.js';
import { installCommands } from './cli/installs.js';
import { coreCommands } from './cli/core.js';
import { extensionCommands } from './cli/extensions.js';
import { mirrorCommands } from './cli/mirror.js';
import { reportError } from './cli/output.js';
import { releaseCommands } from './cli/releases.js';
import { serveCommand } from './cli/serve.js';
import { siteToolCommands } from './cli/site-tools.js';
import { stagingCommands } from './cli/staging.js';
import { updateCommands } from './cli/updates.js';
import { wpUserCommands } from './cli/wp-users.js';

const program = new Command('wpfleet')
  .description(
    'WordPress hosting and fleet management speaking the WP Engine, MainWP and WisPanel APIs',
  )
  .showHelpAfterError();
serveCommand(program);
accountCommands(program);
releaseCommands(program);
installCommands(program);
backupCommands(program);
mirrorCommands(program);
extensionCommands(program, 'plugin');
extensionCommands(program, 'theme');
wpUserCommands(program);
coreCommands(program);
updateCommands(program);
siteToolCommands(program);
cloneCommand(program);
stagingCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.exitCode = reportError(err);
});
