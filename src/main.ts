import { Command } from 'commander';
import { accountCommands } from './cli/accounts.js';
import { reportError } from './cli/output.js';
import { serveCommand } from './cli/serve.js';

const program = new Command('wpfleet')
  .description(
    'WordPress hosting and fleet management speaking the WP Engine, MainWP and WisPanel APIs',
  )
  .showHelpAfterError();
serveCommand(program);
accountCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.exitCode = reportError(err);
});
