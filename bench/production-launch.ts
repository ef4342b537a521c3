/**
 * How `npm start` launches the connector: the environment assignments and node flags of package.json's
 * `start` script (`VAR=value … exec node --flag … dist/cli/main.js serve`). Benchmarks that run the
 * connector in a process of its own (P1, P6) launch it the same way, so they measure what production runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ProductionLaunch {
  env: Record<string, string>;
  nodeArgs: string[];
}

export function productionLaunch(): ProductionLaunch {
  const pkgFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
  const start: string = JSON.parse(fs.readFileSync(pkgFile, 'utf8')).scripts.start;
  const words = start.split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {};
  let i = 0;
  for (; i < words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[i]); i++) {
    const eq = words[i].indexOf('=');
    env[words[i].slice(0, eq)] = words[i].slice(eq + 1);
  }
  if (words[i] === 'exec') i++;
  if (words[i] !== 'node') throw new Error(`package.json start script does not run node: ${start}`);
  const nodeArgs: string[] = [];
  for (i++; i < words.length && words[i].startsWith('--'); i++) nodeArgs.push(words[i]);
  return { env, nodeArgs };
}
