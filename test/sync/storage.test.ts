/**
 * The sync's storage fast path for ServiceDesk_CL rows gives exactly what the workspace's own
 * toStorageRow gives, on real records read from the sandbox through the ServiceNow client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServiceNowSandbox, type ServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';
import { ServiceNowClient } from '../../src/partners/servicenow/client.ts';
import type { ChangedRecord, SyncScope } from '../../src/partners/partner.ts';
import { contentHash, serviceDeskStorage } from '../../src/store/workspace-rows.ts';
import { toStorageRow } from '../../src/store/workspace-tables-sql.ts';

describe('ServiceDesk_CL storage form', () => {
  let sandbox: ServiceNowSandbox;
  const records: ChangedRecord[] = [];

  before(async () => {
    sandbox = await startServiceNowSandbox({ port: 0, seed: 2, days: 30, volume: { incidents: 300, changeRequests: 100, computers: 20 } });
    const client = new ServiceNowClient({
      credentials: { serverUrl: sandbox.url, username: 'admin', password: 'admin' },
      tokens: { load: async () => null, save: async () => {} },
    });
    for (const scope of ['Incident', 'ChangeRequest'] as SyncScope[])
      records.push(...(await client.listChangedSince(scope, '2000-01-01T00:00:00Z', undefined, 1000)).records);
  });
  after(async () => {
    await sandbox?.close();
  });

  for (const dialect of ['sqlite', 'postgres'] as const) {
    it(`equals toStorageRow on ${dialect}`, () => {
      assert.equal(records.length, 400);
      for (const r of records) {
        const expected = toStorageRow('ServiceDesk_CL', { ...r.row, TimeGenerated: null, ServiceDeskConnectionName_s: '', SourceSystem: '' }, dialect);
        assert.deepEqual(serviceDeskStorage(r.row, dialect), expected, r.id);
      }
    });
  }

  it('handles what the fast path does not: epoch numbers, offsets, odd values, and refuses unknown columns', () => {
    const known = {
      ServiceDeskId_s: 'INC1',
      CreatedDate_t: '2026-01-02T03:04:05+02:00',
      ClosedDate_t: 1767225600000,
      ResolvedDate_t: '2026-01-02',
      Title_s: 42,
    };
    assert.deepEqual(
      serviceDeskStorage(known, 'sqlite'),
      toStorageRow('ServiceDesk_CL', { ...known, TimeGenerated: null, ServiceDeskConnectionName_s: '', SourceSystem: '' }, 'sqlite'),
    );
    assert.throws(() => serviceDeskStorage({ ...known, Extra: 'a column ServiceDesk_CL does not have' }, 'sqlite'), /no column Extra/);
    assert.throws(() => serviceDeskStorage({ CreatedDate_t: '2026-02-30T00:00:00Z' }, 'sqlite'));
  });

  it('hashes content, not order or sync metadata', () => {
    const a = serviceDeskStorage({ ServiceDeskId_s: 'INC1', Title_s: 'x' }, 'sqlite');
    const b = serviceDeskStorage({ Title_s: 'x', ServiceDeskId_s: 'INC1', TimeGenerated: 5, ServiceDeskConnectionName_s: 'other' }, 'sqlite');
    assert.equal(contentHash(a), contentHash(b));
    assert.notEqual(contentHash(a), contentHash(serviceDeskStorage({ ServiceDeskId_s: 'INC1', Title_s: 'y' }, 'sqlite')));
  });

  it('keeps the hashes stored by earlier versions (a re-read record with the same content adds no row after an upgrade)', () => {
    // Made with the first implementation (SHA-1 over the values joined by U+0001, null as U+0000, base64url, 22 characters).
    const v = serviceDeskStorage(
      { ServiceDeskId_s: 'INC0010001', Title_s: 'Disk full on ´srv-01´', CreatedDate_t: '2026-01-02T03:04:05Z', Urgency_s: '1 - High' },
      'sqlite',
    );
    assert.equal(contentHash(v), '1p6LPmerfMzRiK3skpRz9e');
    assert.equal(contentHash([null, '', 'x', 1767225600000, undefined, 'ü']), '7_8W4S8x4emj3wB55JiB1r');
  });
});
