/** The CLI commands of issue 4, run in-process against a real connector and sandbox. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { registerActionGroupCommands } from '../../src/cli/actiongroup.ts';
import { registerAlertCommands } from '../../src/cli/alert.ts';
import { registerDeadLetterCommands } from '../../src/cli/dead-letter.ts';
import { registerApplyCommand } from '../../src/cli/apply.ts';
import { tempDir } from '../helpers/stores.ts';
import { drained, fastDelivery, metricAlert, ourIncidents, runCli, sandboxAdmin, startRig, type Rig } from './helpers.ts';

function itsmc(rig: Rig, ...args: string[]): Promise<string> {
  return runCli(rig, [registerActionGroupCommands, registerAlertCommands, registerDeadLetterCommands, registerApplyCommand], ...args);
}

describe('CLI: apply, actiongroup, alert, dead-letter', () => {
  let rig: Rig;
  let dir: string;
  before(async () => {
    rig = await startRig('sqlite', fastDelivery(), { connection: false });
    dir = tempDir();
  });
  after(async () => {
    await rig.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('applies a YAML file with env secret references idempotently, with a dry run that prints the diff', async () => {
    const file = path.join(dir, 'itsmc.yaml');
    const yaml = (workItemType: string) => `
workspace: default
connections:
  - name: snow
    partnerType: ServiceNow
    serverUrl: ${rig.sandbox.url}
    username: itsmc.integration
    password: \${env:CLI_TEST_SNOW_PASSWORD}
    clientId: itsmc-sandbox
    clientSecret: \${env:CLI_TEST_SNOW_SECRET}
    syncDataDays: 30
actionGroups:
  - name: ops
    itsmReceivers:
      - name: incident
        connectionName: snow
        ticketConfiguration:
          WorkItemType: ${workItemType}
          autoResolve: { mode: resolve }
`;
    fs.writeFileSync(file, yaml('Incident'));
    await assert.rejects(itsmc(rig, 'apply', '-f', file), /CLI_TEST_SNOW_PASSWORD, CLI_TEST_SNOW_SECRET/);
    process.env.CLI_TEST_SNOW_PASSWORD = 'sandbox';
    process.env.CLI_TEST_SNOW_SECRET = 'sandbox-secret';

    const dry = await itsmc(rig, 'apply', '-f', file, '--dry-run');
    assert.match(dry, /connection snow: would create/);
    assert.match(dry, /password: \*\*\*/);
    assert.doesNotMatch(dry, /sandbox-secret/);
    assert.match(dry, /action group ops: would create/);
    assert.match(dry, /dry run: nothing changed/);
    assert.match(await itsmc(rig, 'actiongroup', 'list'), /^name/);
    assert.doesNotMatch(await itsmc(rig, 'actiongroup', 'list'), /ops/);

    const applied = await itsmc(rig, 'apply', '-f', file);
    assert.match(applied, /applied: 2 to create, 0 to update, 0 unchanged/);
    const again = await itsmc(rig, 'apply', '-f', file);
    assert.match(again, /applied: 0 to create, 0 to update, 2 unchanged/, again);

    fs.writeFileSync(file, yaml('Event'));
    const change = await itsmc(rig, 'apply', '-f', file, '--dry-run');
    assert.match(change, /action group ops: would update\n\s+~ itsmReceivers\[0\]\.ticketConfiguration\.WorkItemType: "Incident" → "Event"/);
    await itsmc(rig, 'apply', '-f', file);
    const shown = JSON.parse(await itsmc(rig, 'actiongroup', 'show', 'ops'));
    assert.equal(shown.itsmReceivers[0].ticketConfiguration.WorkItemType, 'Event');
    assert.match(shown.webhookUrl, /\/hooks\/itsmh_/);
  });

  it('applies an action group file, sends an alert from a file, and lists and replays dead letters', async () => {
    const group = path.join(dir, 'group.json');
    fs.writeFileSync(
      group,
      JSON.stringify({ name: 'cli', itsmReceivers: [{ name: 'inc', connectionName: 'snow', ticketConfiguration: { WorkItemType: 'Incident' } }] }),
    );
    assert.match(await itsmc(rig, 'actiongroup', 'apply', '-f', group), /cli/);

    await sandboxAdmin(rig.sandbox, 'PUT', '/api/x_sandbox/faults', { failNext: 1, errorStatus: 400, paths: ['/api/now/table/incident'] });
    const alert = path.join(dir, 'alert.json');
    fs.writeFileSync(alert, JSON.stringify(metricAlert({ rule: 'cli-rule', alertId: 'cli-1', cis: [] })));
    const sent = await itsmc(rig, 'alert', 'send', alert, '--action-group', 'cli');
    assert.match(sent, /^accepted/);
    await drained(rig.c);
    await sandboxAdmin(rig.sandbox, 'POST', '/api/x_sandbox/reset_faults');

    const dead = JSON.parse(await itsmc(rig, 'dead-letter', 'list', '--json'));
    assert.equal(dead.value.length, 1);
    assert.match(await itsmc(rig, 'dead-letter', 'list'), /cli-1/);
    await assert.rejects(itsmc(rig, 'dead-letter', 'replay'), /--all/);
    assert.match(await itsmc(rig, 'dead-letter', 'replay', '--all'), /replayed 1/);
    await drained(rig.c);
    assert.equal((await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('cli-rule')).length, 1);
    assert.match(await itsmc(rig, 'alert', 'send', alert, '--action-group', 'cli'), /^duplicate/);
  });
});
