import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { createProgram } from '../../src/cli/program.ts';
import { api, tempDir } from '../helpers/stores.ts';
import { fastDelivery, startRig, type Rig } from '../delivery/helpers.ts';

/** Runs `itsmc apply ...` in this process against the rig; returns what it printed. */
async function apply(rig: Rig, ...args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.map(String).join(' '));
  try {
    const program = await createProgram(['apply'], new Command('itsmc').exitOverride());
    await program.parseAsync(['node', 'itsmc', 'apply', ...args, '--url', rig.c.url, '--token', rig.token]);
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

describe('itsmc apply validates on the connector before it writes', () => {
  let rig: Rig;
  let dir: string;
  const connection = (name: string, password = 'sandbox') => ({
    name,
    partnerType: 'ServiceNow',
    serverUrl: rig.sandbox.url,
    username: 'itsmc.integration',
    password,
    clientId: 'itsmc-sandbox',
    clientSecret: 'sandbox-secret',
  });
  const write = (name: string, doc: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(doc));
    return file;
  };
  const names = async (kind: 'connections' | 'actionGroups') =>
    (await api(rig.c.url, rig.token, 'GET', `/api/v1/workspaces/default/${kind}`)).body.value.map((x: any) => x.name).sort();

  before(async () => {
    rig = await startRig('sqlite', fastDelivery());
    dir = tempDir();
  });
  after(async () => {
    await rig.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const invalid = () => ({
    connections: [connection('snow-2')],
    actionGroups: [
      {
        name: 'ops',
        itsmReceivers: [
          { name: 'inc', connectionName: 'snow', ticketConfiguration: { WorkItemType: 'Incident', UseTemplate: true, TemplateName: 'no-such-template' } },
        ],
      },
    ],
  });

  it('runs the server-side validation in a dry run: an invalid action group is reported, not "2 to create"', async () => {
    const file = write('invalid.json', invalid());
    await assert.rejects(apply(rig, '-f', file, '--dry-run'), (err: Error) => {
      assert.match(err.message, /does not validate; nothing was applied/);
      assert.match(err.message, /action group ops: itsmReceivers\/0\/ticketConfiguration/);
      assert.match(err.message, /no-such-template/);
      return true;
    });
  });

  it('writes nothing when anything in the file is invalid, not even what comes first', async () => {
    const file = write('invalid.json', invalid());
    await assert.rejects(apply(rig, '-f', file), /nothing was applied/);
    assert.deepEqual(await names('connections'), ['snow']);
    assert.deepEqual(await names('actionGroups'), []);
  });

  it('does not report a wrong password as unchanged: the credential check fails and names the connection', async () => {
    const file = write('wrong-password.json', { connections: [connection('snow', 'not-the-password')] });
    await assert.rejects(apply(rig, '-f', file, '--dry-run'), (err: Error) => {
      assert.match(err.message, /connection snow: .*credential check failed/);
      return true;
    });
    const right = await apply(rig, '-f', write('right-password.json', { connections: [connection('snow')] }), '--dry-run');
    assert.match(right, /connection snow: unchanged/);
  });

  it('signs in again with the file’s credentials when asked to rotate them', async () => {
    const out = await apply(rig, '-f', write('rotate.json', { connections: [connection('snow')] }), '--rotate-credentials');
    assert.match(out, /connection snow: updated \(status Healthy\)/);
    assert.match(out, /sign in again with the file's password and clientSecret/);
  });

  it('reports each step and prints the webhook URL of the action groups it creates', async () => {
    const file = write('valid.json', {
      connections: [connection('snow-3')],
      actionGroups: [{ name: 'ops-3', itsmReceivers: [{ name: 'inc', connectionName: 'snow-3', ticketConfiguration: { WorkItemType: 'Incident' } }] }],
    });
    const dry = await apply(rig, '-f', file, '--dry-run');
    assert.match(dry, /plan: 2 to create, 0 to update, 0 unchanged \(dry run: nothing changed\)/);
    const out = await apply(rig, '-f', file);
    assert.match(out, /^connection snow-3: created \(status Healthy\)$/m);
    assert.match(out, /^action group ops-3: created\n\s+webhook URL: http:\/\/127\.0\.0\.1:\d+\/hooks\/itsmh_\S+$/m);
    const again = await apply(rig, '-f', file);
    assert.match(again, /applied: 0 to create, 0 to update, 2 unchanged/);
  });
});
