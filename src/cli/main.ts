import { Command } from 'commander';
import { CliError } from './api-client.ts';
import { registerServeCommand } from './serve.ts';
import { registerConnectionCommands } from './connection.ts';
import { registerQueryCommand } from './query.ts';
import { registerSandboxCommand } from './sandbox.ts';
import { registerActionGroupCommands } from './actiongroup.ts';
import { registerAlertCommands } from './alert.ts';
import { registerDeadLetterCommands } from './dead-letter.ts';
import { registerQueueCommands } from './queue.ts';
import { registerApplyCommand } from './apply.ts';

const program = new Command('itsmc').description('OpenITSMC — IT Service Management Connector').showHelpAfterError();
registerServeCommand(program);
registerConnectionCommands(program);
registerQueryCommand(program);
registerSandboxCommand(program);
registerActionGroupCommands(program);
registerAlertCommands(program);
registerDeadLetterCommands(program);
registerQueueCommands(program);
registerApplyCommand(program);

program.parseAsync(process.argv).catch((err) => {
  console.error(err instanceof CliError ? `itsmc: ${err.message}` : err);
  process.exit(1);
});
