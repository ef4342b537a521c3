import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ensureBuilt, root } from '../helpers/build.ts';
import { tempDir } from '../helpers/stores.ts';

/** Processes whose parent chain leads to `pid` (Linux /proc). */
function descendants(pid: number): { pid: number; cmdline: string }[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  const found: { pid: number; cmdline: string }[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid !== parent) continue;
      let cmdline: string;
      try {
        cmdline = fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      } catch {
        continue;
      }
      found.push({ pid: child, cmdline });
      walk(child);
    }
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

interface Started {
  proc: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function start(command: string, args: string[], dataDir: string): Promise<Started> {
  const env = { ...process.env, PORT: '0', ITSMC_HOST: '127.0.0.1', ITSMC_DATA_DIR: dataDir, ITSMC_SANDBOX: '0', ITSMC_SYNC: '0' };
  const proc = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  proc.stdout!.on('data', (d) => (text += d));
  proc.stderr!.on('data', (d) => (text += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (m) resolve(m[1]);
    };
    proc.stdout!.on('data', check);
    proc.once('exit', () => reject(new Error(`exited before listening:\n${text}`)));
  });
  return { proc, url, output: () => text, exited };
}

describe('shutdown: the compiled connector stops on SIGTERM and frees its port', () => {
  let dataDir: string;
  before(() => {
    ensureBuilt();
    dataDir = tempDir();
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('stops `npm start` (compiled JavaScript, no tsx, with the memory settings) when the npm process itself gets SIGTERM', async () => {
    const s = await start('npm', ['start'], dataDir);
    const tree = descendants(s.proc.pid!);
    const server = tree.find((p) => p.cmdline.includes('dist/cli/main.js serve'));
    assert.ok(server, `the connector runs from dist/: ${JSON.stringify(tree)}`);
    assert.ok(!tree.some((p) => p.cmdline.includes('tsx')), `no tsx at run time: ${JSON.stringify(tree)}`);
    // The memory settings of P6 (README, "Memory"): a smaller young generation and glibc returning freed memory.
    assert.match(server.cmdline, /--max-semi-space-size=8/);
    const environ = fs.readFileSync(`/proc/${server.pid}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes('MALLOC_ARENA_MAX=2') && environ.includes('MALLOC_TRIM_THRESHOLD_=131072'), 'npm start sets the malloc settings');
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);

    s.proc.kill('SIGTERM');
    assert.equal(await s.exited, 0, s.output());
    for (let i = 0; i < 100 && alive(server.pid); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(server.pid), false, 'the connector process is gone, not orphaned');
    assert.match(s.output(), /OpenITSMC stopped on SIGTERM in \d+ ms/);
    assert.equal(await portIsFree(Number(new URL(s.url).port)), true, 'the port is free');
  });

  it('stops `itsmc serve` gracefully on SIGTERM, logging one line', async () => {
    const s = await start(process.execPath, [path.join(root, 'bin/itsmc.js'), 'serve'], dataDir);
    s.proc.kill('SIGTERM');
    assert.equal(await s.exited, 0, s.output());
    assert.equal(s.output().match(/OpenITSMC stopped/g)?.length, 1);
    assert.equal(await portIsFree(Number(new URL(s.url).port)), true);
  });
});
