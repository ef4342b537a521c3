import { Command } from 'commander';
import { CliError } from './api-client.ts';
import { registerServeCommand } from './serve.ts';
import { registerConnectionCommands } from './connection.ts';
import { registerSandboxCommand } from '../sandbox/servicenow/index.ts';

const program = new Command('itsmc').description('OpenITSMC — IT Service Management Connector').showHelpAfterError();
registerServeCommand(program);
registerConnectionCommands(program);
registerSandboxCommand(program);

program.parseAsync(process.argv).catch((err) => {
  console.error(err instanceof CliError ? `itsmc: ${err.message}` : err);
  process.exit(1);
});
