import { Command } from 'commander';
import { registerServeCommand } from './serve.ts';
import { registerConnectionCommands } from './connection.ts';
import { registerQueryCommand } from './query.ts';
import { registerActionGroupCommands } from './actiongroup.ts';
import { registerAlertCommands } from './alert.ts';
import { registerDeadLetterCommands } from './dead-letter.ts';
import { registerApplyCommand } from './apply.ts';
import { registerQueueCommands } from './queue.ts';

/** Options of every command; they may stand before or after the subcommand (`itsmc --json connection list`). */
const GLOBAL_OPTIONS = ['url', 'token', 'json'] as const;

/** Adds --url, --token and --json to a program and hands them to whichever command runs. */
export function addGlobalOptions(program: Command): Command {
  program
    .option('--url <url>', 'connector base URL (default ITSMC_URL, else http://127.0.0.1:$PORT)')
    .option('--token <token>', 'bearer token: the admin token or a workspace API key (default ITSMC_TOKEN, ITSMC_ADMIN_TOKEN, else <data dir>/admin.token)')
    .option('--json', 'JSON output');
  return program.hook('preAction', (root, action) => {
    for (const name of GLOBAL_OPTIONS) {
      const value = root.getOptionValue(name);
      if (value !== undefined && action.getOptionValue(name) === undefined) action.setOptionValue(name, value);
    }
  });
}

/**
 * The `itsmc` program for these arguments. Command modules are light; what a command needs beyond the
 * REST client (the server, the emulators, YAML) is imported when that command runs.
 */
export async function createProgram(args: string[], root = new Command('itsmc')): Promise<Command> {
  const program = addGlobalOptions(root.description('OpenITSMC — IT Service Management Connector').showHelpAfterError());
  registerServeCommand(program);
  registerConnectionCommands(program);
  registerQueryCommand(program);
  registerActionGroupCommands(program);
  registerAlertCommands(program);
  registerDeadLetterCommands(program);
  registerQueueCommands(program);
  registerApplyCommand(program);
  if (firstOperand(args) === 'sandbox') (await import('./sandbox.ts')).registerSandboxCommand(program);
  else program.command('sandbox').description('run a bundled ITSM emulator (itsmc sandbox --help)');
  return program;
}

/** The command word: the first argument that is neither an option nor a global option's value. */
function firstOperand(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--url' || args[i] === '--token') i++;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return undefined;
}
