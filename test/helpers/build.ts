import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '../..');

function newestSource(dir: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((newest, e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return Math.max(newest, newestSource(p));
    return e.name.endsWith('.ts') ? Math.max(newest, fs.statSync(p).mtimeMs) : newest;
  }, 0);
}

/** Makes sure dist/ (what `npm start` and bin/itsmc.js run) is built from the current sources. */
export function ensureBuilt(): void {
  const main = path.join(root, 'dist/cli/main.js');
  if (fs.existsSync(main) && fs.statSync(main).mtimeMs >= newestSource(path.join(root, 'src'))) return;
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
