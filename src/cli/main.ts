import { CliError } from './api-client.ts';
import { createProgram } from './program.ts';

const program = await createProgram(process.argv.slice(2));
program.parseAsync(process.argv).catch((err) => {
  console.error(err instanceof CliError ? `itsmc: ${err.message}` : err);
  process.exit(1);
});
