#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm install`/`npm ci` through the prepare script, or `npm run build`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('itsmc: dist/ is missing; run `npm run build` (npm install and npm ci build it too)');
  process.exit(1);
}
await import(main.href);
