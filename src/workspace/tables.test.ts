import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { formatTimespan, fromStorageValue, StorageRowError, toEpochMs, workspaceTables, type ServiceDeskRow } from './tables.ts';
import { createWorkspaceTablesSql, insertRowSql, toStorageRow } from '../store/workspace-tables-sql.ts';
import { tryPgTestRunner } from './kql/test-helpers.ts';

describe('workspace table schemas', () => {
  const types = (table: keyof typeof workspaceTables) => Object.fromEntries(workspaceTables[table].columns.map((c) => [c.name, c.type]));

  it('ServiceDesk_CL has every ITSMC incident and change request column with its type', () => {
    const cols = types('ServiceDesk_CL');
    for (const s of [
      'ServiceDeskWorkItemType_s',
      'ServiceDeskId_s',
      'IncidentState_s',
      'CRState_s',
      'Urgency_s',
      'Impact_s',
      'Priority_s',
      'Escalation_s',
      'CreatedBy_s',
      'ResolvedBy_s',
      'ClosedBy_s',
      'Source_s',
      'AssignedTo_s',
      'Category_s',
      'Title_s',
      'Description_s',
      'Type_s',
      'Risk_s',
      'ConflictStatus_s',
      'Computer',
      'ServiceDeskConnectionName_s',
    ])
      assert.equal(cols[s], 'string', s);
    for (const t of [
      'TimeGenerated',
      'CreatedDate_t',
      'ClosedDate_t',
      'ResolvedDate_t',
      'LastModifiedDate_t',
      'RequestedDate_t',
      'PlannedStartDate_t',
      'PlannedEndDate_t',
      'WorkStartDate_t',
      'WorkEndDate_t',
    ])
      assert.equal(cols[t], 'datetime', t);
  });

  it('ServiceDeskLog_CL and ItsmActionOutcome_CL have their columns', () => {
    assert.deepEqual(
      ['LogType_s', 'Message', 'ExceptionMessage_s', 'Status_b', 'ServiceDeskConnectionName_s', 'TimeGenerated', 'ActionStatus_d'].map(
        (c) => types('ServiceDeskLog_CL')[c],
      ),
      ['string', 'string', 'string', 'bool', 'string', 'datetime', 'real'],
    );
    const o = types('ItsmActionOutcome_CL');
    for (const c of [
      'AlertId_s',
      'AlertRule_s',
      'ActionGroup_s',
      'Action_s',
      'ServiceDeskConnectionName_s',
      'WorkItemType_s',
      'WorkItemId_s',
      'WorkItemNumber_s',
      'Operation_s',
      'Computer',
      'Message',
    ]) {
      assert.equal(o[c], 'string', c);
    }
    assert.equal(o.TimeGenerated, 'datetime');
  });

  it('column names are unique case-insensitively (SQLite identifiers are case-insensitive)', () => {
    for (const t of Object.values(workspaceTables)) {
      const lower = t.columns.map((c) => c.name.toLowerCase());
      assert.equal(new Set(lower).size, lower.length, t.name);
      assert.ok(!lower.includes('workspace'), t.name);
    }
  });
});

describe('DDL', () => {
  it('is idempotent on SQLite and puts workspace first', () => {
    const db = new Database(':memory:');
    for (let i = 0; i < 2; i++) for (const s of createWorkspaceTablesSql('sqlite')) db.exec(s);
    const cols = db.prepare(`PRAGMA table_info(ws_servicedesk_cl)`).all() as { name: string; type: string }[];
    assert.equal(cols[0].name, 'workspace');
    assert.equal(cols.find((c) => c.name === 'TimeGenerated')?.type, 'INTEGER');
    const idx = db.prepare(`PRAGMA index_list(ws_servicedesk_cl)`).all() as { name: string }[];
    assert.ok(idx.length >= 3);
    db.close();
  });

  it('is idempotent on PostgreSQL, with BIGINT datetimes and BOOLEAN bools', async (t) => {
    const runner = await tryPgTestRunner();
    if (typeof runner === 'string') return t.skip(runner);
    try {
      // The runner already ran the DDL once, in its own schema.
      for (const s of createWorkspaceTablesSql('postgres')) await runner.exec(s);
      await runner.insert('ServiceDeskLog_CL', 'w1', [{ TimeGenerated: '2026-01-01T00:00:00Z', Status_b: true }]);
      const res = await runner.query(
        `SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'ws_servicedesklog_cl' AND column_name IN ('TimeGenerated', 'Status_b') ORDER BY column_name`,
        [],
      );
      assert.deepEqual(res.rows, [['boolean'], ['bigint']]);
    } finally {
      await runner.close();
    }
  });

  it('insertRowSql has one placeholder per column plus workspace', () => {
    const n = workspaceTables.ServiceDesk_CL.columns.length + 1;
    assert.equal((insertRowSql('ServiceDesk_CL', 'sqlite').match(/\?/g) ?? []).length, n);
    assert.match(insertRowSql('ServiceDesk_CL', 'postgres'), new RegExp(`\\$${n}\\)$`));
  });
});

describe('toStorageRow', () => {
  const idx = (name: string) => workspaceTables.ServiceDesk_CL.columns.findIndex((c) => c.name === name);

  it('converts ISO 8601 strings, Dates and epoch numbers to epoch milliseconds', () => {
    const row = toStorageRow('ServiceDesk_CL', {
      TimeGenerated: '2026-03-01T08:00:00.123Z',
      CreatedDate_t: '2026-03-01T10:00:00+02:00',
      ClosedDate_t: new Date('2026-03-02T00:00:00Z'),
      ResolvedDate_t: 1767225600000,
    });
    assert.equal(row[idx('TimeGenerated')], Date.UTC(2026, 2, 1, 8, 0, 0, 123));
    assert.equal(row[idx('CreatedDate_t')], Date.UTC(2026, 2, 1, 8));
    assert.equal(row[idx('ClosedDate_t')], Date.UTC(2026, 2, 2));
    assert.equal(row[idx('ResolvedDate_t')], 1767225600000);
    assert.equal(row[idx('LastModifiedDate_t')], null);
  });

  it('stores missing strings as "" and fills Type with the table name', () => {
    const row = toStorageRow('ServiceDesk_CL', { ServiceDeskId_s: 'INC1' });
    assert.equal(row[idx('Title_s')], '');
    assert.equal(row[idx('Type')], 'ServiceDesk_CL');
  });

  it('rejects unknown columns and invalid values', () => {
    assert.throws(() => toStorageRow('ServiceDesk_CL', { Bogus_s: 'x' }), StorageRowError);
    assert.throws(() => toStorageRow('ServiceDesk_CL', { TimeGenerated: 'yesterday' }), StorageRowError);
    assert.throws(() => toStorageRow('ServiceDesk_CL', { TimeGenerated: '2026-02-30T00:00:00Z' }), StorageRowError);
    assert.throws(() => toStorageRow('ServiceDeskLog_CL', { Status_b: 'maybe' }), StorageRowError);
    assert.throws(() => toStorageRow('ServiceDeskLog_CL', { ActionStatus_d: 'abc' }), StorageRowError);
    assert.throws(() => toStorageRow('ServiceDesk_CL', { Title_s: { a: 1 } }), StorageRowError);
  });

  it('stores bools as 0/1 for SQLite and as booleans for PostgreSQL', () => {
    const i = workspaceTables.ServiceDeskLog_CL.columns.findIndex((c) => c.name === 'Status_b');
    assert.equal(toStorageRow('ServiceDeskLog_CL', { Status_b: true }, 'sqlite')[i], 1);
    assert.equal(toStorageRow('ServiceDeskLog_CL', { Status_b: 'false' }, 'postgres')[i], false);
  });

  it('parses datetimes strictly', () => {
    assert.equal(toEpochMs('2026-01-01'), Date.UTC(2026, 0, 1));
    assert.equal(toEpochMs('2026-01-01 10:00'), Date.UTC(2026, 0, 1, 10));
    assert.equal(toEpochMs(null), null);
    assert.throws(() => toEpochMs('01/02/2026'), StorageRowError);
  });
});

describe('fromStorageValue', () => {
  it('converts storage values to Log Analytics wire values', () => {
    assert.equal(fromStorageValue('datetime', 1767225600000), '2026-01-01T00:00:00Z');
    assert.equal(fromStorageValue('datetime', '1767225600123'), '2026-01-01T00:00:00.123Z');
    assert.equal(fromStorageValue('datetime', null), null);
    assert.equal(fromStorageValue('bool', 1), true);
    assert.equal(fromStorageValue('bool', false), false);
    assert.equal(fromStorageValue('long', '9007199254740991'), 9007199254740991);
    assert.equal(fromStorageValue('real', '2.5'), 2.5);
    assert.equal(fromStorageValue('real', NaN), 'NaN');
    assert.equal(fromStorageValue('string', null), '');
    assert.equal(fromStorageValue('dynamic', '["a", "b"]'), '["a","b"]');
    assert.equal(fromStorageValue('timespan', 90061001), '1.01:01:01.0010000');
  });

  it('formats timespans like Kusto', () => {
    assert.equal(formatTimespan(3600000), '01:00:00');
    assert.equal(formatTimespan(-1500), '-00:00:01.5000000');
    assert.equal(formatTimespan(2 * 86400000), '2.00:00:00');
  });
});

describe('typed workspace rows', () => {
  it('refuses a row with a column the table does not declare instead of dropping the value', async () => {
    const { serviceDeskStorage } = await import('../store/workspace-rows.ts');
    assert.throws(() => serviceDeskStorage({ Title_s: 'x', Titel_s: 'typo' } as Record<string, unknown>, 'sqlite'), /ServiceDesk_CL has no column Titel_s/);
    assert.doesNotThrow(() => serviceDeskStorage({ Title_s: 'x', ServiceDeskId_s: 'INC1' }, 'sqlite'));
  });

  it('types a ServiceDesk_CL row from the table declaration', () => {
    const row: ServiceDeskRow = { Title_s: 'x', CreatedDate_t: '2026-01-01T00:00:00Z' };
    // @ts-expect-error: a column ServiceDesk_CL does not declare is a type error
    const wrong: ServiceDeskRow = { Titel_s: 'x' };
    assert.ok(row && wrong);
  });
});
