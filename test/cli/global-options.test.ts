import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { createProgram } from '../../src/cli/program.ts';
import { api, tempDir } from '../helpers/stores.ts';
import { fastDelivery, startRig, type Rig } from '../delivery/helpers.ts';

/** Runs `itsmc ARGS` in this process with only the environment given; returns what it printed. */
async function itsmc(env: Record<string, string>, ...args: string[]): Promise<string> {
  const saved = { ...process.env };
  for (const k of ['ITSMC_URL', 'ITSMC_TOKEN', 'ITSMC_ADMIN_TOKEN', 'ITSMC_DATA_DIR', 'PORT']) delete process.env[k];
  Object.assign(process.env, env);
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.map(String).join(' '));
  try {
    const program = await createProgram(args, new Command('itsmc').exitOverride());
    await program.parseAsync(['node', 'itsmc', ...args]);
  } finally {
    console.log = log;
    process.env = saved;
  }
  return lines.join('\n');
}

describe('CLI options and messages', () => {
  let rig: Rig;
  let emptyDataDir: string;
  before(async () => {
    rig = await startRig('sqlite', fastDelivery());
    emptyDataDir = tempDir();
    const res = await api(rig.c.url, rig.token, 'PUT', '/api/v1/workspaces/default/actionGroups/ops', {
      itsmReceivers: [{ name: 'incident', connectionName: 'snow', ticketConfiguration: { WorkItemType: 'Incident' } }],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });
  after(async () => {
    await rig.cleanup();
    fs.rmSync(emptyDataDir, { recursive: true, force: true });
  });

  const env = () => ({ ITSMC_DATA_DIR: emptyDataDir });

  it('takes --url, --token and --json before or after the subcommand', async () => {
    const forms = [
      ['--url', rig.c.url, '--token', rig.token, '--json', 'connection', 'list'],
      ['connection', 'list', '--url', rig.c.url, '--token', rig.token, '--json'],
      ['--json', 'connection', 'list', '--url', rig.c.url, '--token', rig.token],
      ['--url', rig.c.url, 'connection', '--token', rig.token, 'list', '--json'],
    ];
    for (const args of forms) {
      const out = JSON.parse(await itsmc(env(), ...args));
      assert.deepEqual(
        out.value.map((c: any) => c.name),
        ['snow'],
        args.join(' '),
      );
    }
  });

  it('takes them on every command that talks to the connector', async () => {
    const common = ['--url', rig.c.url, '--token', rig.token, '--json'];
    assert.equal(JSON.parse(await itsmc(env(), 'actiongroup', 'show', 'ops', ...common)).name, 'ops');
    assert.deepEqual(JSON.parse(await itsmc(env(), 'dead-letter', 'list', ...common)).value, []);
    assert.ok(JSON.parse(await itsmc(env(), 'query', 'ServiceDesk_CL | count', ...common)).tables);
    const file = path.join(emptyDataDir, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ actionGroups: [] }));
    assert.deepEqual(JSON.parse(await itsmc(env(), 'apply', '-f', file, '--dry-run', ...common)).items, []);
    const alert = path.join(emptyDataDir, 'alert.json');
    fs.writeFileSync(alert, JSON.stringify({ receiver: 'x', status: 'firing', alerts: [] }));
    await assert.rejects(itsmc(env(), ...common, 'alert', 'send', alert, '-g', 'nope'), /404/);
  });

  it('says where the token was looked for when the connector answers 401', async () => {
    await assert.rejects(itsmc(env(), 'connection', 'list', '--url', rig.c.url, '--token', 'itsma_wrong'), (err: Error) => {
      assert.match(err.message, /^401/);
      assert.match(err.message, /token from --token was refused/);
      assert.match(err.message, /ITSMC_ADMIN_TOKEN/);
      return true;
    });
    await assert.rejects(itsmc(env(), 'query', 'ServiceDesk_CL | count', '--url', rig.c.url), (err: Error) => {
      assert.match(err.message, /no token was found/);
      assert.ok(err.message.includes(path.join(emptyDataDir, 'admin.token')), err.message);
      return true;
    });
    await assert.rejects(
      itsmc({ ...env(), ITSMC_ADMIN_TOKEN: 'itsma_stale' }, 'actiongroup', 'list', '--url', rig.c.url),
      /token from ITSMC_ADMIN_TOKEN was refused/,
    );
  });

  it('tells the CLI user about --force when a connection in use is removed', async () => {
    await assert.rejects(itsmc(env(), 'connection', 'rm', 'snow', '--url', rig.c.url, '--token', rig.token), (err: Error) => {
      assert.match(err.message, /used by action groups: ops/);
      assert.match(err.message, /--force/);
      assert.doesNotMatch(err.message, /\?force=true/);
      return true;
    });
  });
});
