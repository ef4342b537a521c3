import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startConnector, type Connector } from '../../src/runtime/connector.ts';
import { startServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';
import { startScsmSandbox } from '../../src/sandbox/scsm/index.ts';
import { startCherwellSandbox } from '../../src/sandbox/cherwell/index.ts';
import { startProvanceSandbox } from '../../src/sandbox/provance/index.ts';
import { tempDir, testSettings } from '../helpers/stores.ts';

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? [p, ...walk(p)] : [p];
  });
}

const modeOf = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);

describe('data directory permissions', () => {
  let dataDir: string;
  let connector: Connector;
  const sandboxes: { close(): Promise<void> }[] = [];
  before(async () => {
    // A data directory left world-readable (as earlier versions did) with a world-readable key file in it.
    dataDir = path.join(tempDir(), 'data');
    fs.mkdirSync(dataDir, { mode: 0o755 });
    fs.chmodSync(dataDir, 0o755);
    fs.writeFileSync(path.join(dataDir, 'master.key'), 'an-old-master-key-of-32-characters!!\n', { mode: 0o644 });
    fs.chmodSync(path.join(dataDir, 'master.key'), 0o644);
    const settings = testSettings(dataDir, { ITSMC_DELIVERY: '0' });
    connector = await startConnector({ settings });
    // Where the quick start keeps the bundled sandboxes (small volumes keep the test quick).
    const sandboxDir = path.join(dataDir, 'sandbox');
    sandboxes.push(await startServiceNowSandbox({ port: 0, dataDir: sandboxDir, volume: { incidents: 5, changeRequests: 2, computers: 2 } }));
    sandboxes.push(await startScsmSandbox({ port: 0, dataDir: sandboxDir, volume: { incidents: 5, changeRequests: 2, computers: 2 } }));
    sandboxes.push(await startCherwellSandbox({ port: 0, dataDir: sandboxDir, volume: { incidents: 5, changeRequests: 2, configItems: 2 } }));
    sandboxes.push(await startProvanceSandbox({ port: 0, dataDir: sandboxDir, volume: { incidents: 5, changeRequests: 2, cis: 2 } }));
  });
  after(async () => {
    for (const s of sandboxes) await s.close();
    await connector?.close();
    fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('makes the data directory and every directory in it 0700', () => {
    const dirs = [dataDir, ...walk(dataDir).filter((p) => fs.statSync(p).isDirectory())];
    assert.ok(
      dirs.some((d) => d.endsWith('sandbox')),
      'the sandbox keeps its data under the data directory',
    );
    for (const d of dirs) assert.equal(modeOf(d), '700', d);
  });

  it('makes the SQLite files (with -wal and -shm), keys and tokens 0600, every sandbox’s included', () => {
    const files = walk(dataDir).filter((p) => fs.statSync(p).isFile());
    const names = files.map((f) => path.relative(dataDir, f)).sort();
    for (const expected of [
      'itsmc.sqlite',
      'itsmc.sqlite-wal',
      'itsmc.sqlite-shm',
      'master.key',
      'admin.token',
      path.join('sandbox', 'servicenow.sqlite'),
      path.join('sandbox', 'servicenow.sqlite-wal'),
      path.join('sandbox', 'scsm.sqlite'),
      path.join('sandbox', 'cherwell.sqlite'),
      path.join('sandbox', 'provance.sqlite'),
    ]) {
      assert.ok(names.includes(expected), `${expected} exists (found ${names.join(', ')})`);
    }
    for (const f of files) assert.equal(modeOf(f), '600', f);
  });
});
