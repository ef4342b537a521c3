import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventSeverity, isIncidentClosed, isoToSnDate, serviceDeskColumns, snDateToIso, syncFields, toServiceDeskRow } from './mapping.ts';

const dv = (value: string, display_value = value) => ({ value, display_value });

const incident = {
  sys_id: dv('0123456789abcdef0123456789abcdef'),
  number: dv('INC0010001'),
  state: dv('6', 'Resolved'),
  urgency: dv('1', '1 - High'),
  impact: dv('2', '2 - Medium'),
  priority: dv('2', '2 - High'),
  escalation: dv('0', 'Normal'),
  opened_by: dv('6816f79cc0a8016401c5a33be04be441', 'System Administrator'),
  resolved_by: dv('aa', 'ITSM Integration'),
  closed_by: dv('', ''),
  contact_type: dv('email', 'Email'),
  assigned_to: dv('', ''),
  category: dv('network', 'Network'),
  short_description: dv('Disk full on web01'),
  description: dv(''),
  opened_at: dv('2026-01-02 03:04:05', '01/02/2026 04:04:05'),
  closed_at: dv('', ''),
  resolved_at: dv('2026-01-03 10:00:00', '01/03/2026 11:00:00'),
  sys_updated_on: dv('2026-01-03 10:00:01', '01/03/2026 11:00:01'),
  cmdb_ci: dv('bb', 'web01'),
};

describe('ServiceDesk_CL mapping', () => {
  it('maps an incident to ITSMC column names with labels for states, choices and users', () => {
    const row = toServiceDeskRow('Incident', incident);
    assert.equal(row.ServiceDeskWorkItemType_s, 'Incident');
    assert.equal(row.ServiceDeskId_s, 'INC0010001');
    assert.equal(row.IncidentState_s, 'Resolved');
    assert.equal(row.Urgency_s, '1 - High');
    assert.equal(row.Impact_s, '2 - Medium');
    assert.equal(row.Priority_s, '2 - High');
    assert.equal(row.CreatedBy_s, 'System Administrator');
    assert.equal(row.ResolvedBy_s, 'ITSM Integration');
    assert.equal(row.Source_s, 'Email');
    assert.equal(row.Category_s, 'Network');
    assert.equal(row.Title_s, 'Disk full on web01');
    assert.equal(row.Computer, 'web01');
    assert.equal(row.CRState_s, undefined, 'change columns are not on incident rows');
  });

  it('writes _t columns as ISO 8601 UTC from the raw value (not the user-time-zone label), empty → null', () => {
    const row = toServiceDeskRow('Incident', incident);
    assert.equal(row.CreatedDate_t, '2026-01-02T03:04:05Z');
    assert.equal(row.ResolvedDate_t, '2026-01-03T10:00:00Z');
    assert.equal(row.LastModifiedDate_t, '2026-01-03T10:00:01Z');
    assert.equal(row.ClosedDate_t, null);
  });

  it('keeps empty strings for _s columns', () => {
    const row = toServiceDeskRow('Incident', incident);
    assert.equal(row.ClosedBy_s, '');
    assert.equal(row.AssignedTo_s, '');
    assert.equal(row.Description_s, '');
  });

  it('maps a change request to the CR columns (requested by, planned/actual dates, risk, type)', () => {
    const row = toServiceDeskRow('ChangeRequest', {
      number: dv('CHG0030001'),
      state: dv('-1', 'Implement'),
      type: dv('normal', 'Normal'),
      risk: dv('3', 'Moderate'),
      requested_by: dv('cc', 'Beth Anglin'),
      start_date: dv('2026-02-01 08:00:00'),
      end_date: dv('2026-02-01 10:00:00'),
      work_start: dv('2026-02-01 08:05:00'),
      work_end: dv(''),
      requested_by_date: dv(''),
      cmdb_ci: '',
    });
    assert.equal(row.ServiceDeskWorkItemType_s, 'ChangeRequest');
    assert.equal(row.ServiceDeskId_s, 'CHG0030001');
    assert.equal(row.CRState_s, 'Implement');
    assert.equal(row.Type_s, 'Normal');
    assert.equal(row.Risk_s, 'Moderate');
    assert.equal(row.CreatedBy_s, 'Beth Anglin');
    assert.equal(row.PlannedStartDate_t, '2026-02-01T08:00:00Z');
    assert.equal(row.PlannedEndDate_t, '2026-02-01T10:00:00Z');
    assert.equal(row.WorkStartDate_t, '2026-02-01T08:05:00Z');
    assert.equal(row.WorkEndDate_t, null);
    assert.equal(row.RequestedDate_t, null);
    assert.equal(row.Computer, '');
    assert.equal(row.IncidentState_s, undefined);
    assert.equal(row.ResolvedBy_s, undefined);
  });

  it('tolerates plain-string fields (display_value=false) and missing fields', () => {
    const row = toServiceDeskRow('Incident', { number: 'INC1', state: '1' });
    assert.equal(row.IncidentState_s, '1');
    assert.equal(row.Title_s, '');
    assert.equal(row.CreatedDate_t, null);
  });

  it('produces exactly the columns listed in serviceDeskColumns, with matching Kusto types', () => {
    for (const scope of ['Incident', 'ChangeRequest'] as const) {
      const row = toServiceDeskRow(scope, {});
      const listed = serviceDeskColumns
        .filter((c) => c.scopes.includes(scope))
        .map((c) => c.name)
        .sort();
      assert.deepEqual(Object.keys(row).sort(), listed);
    }
    for (const c of serviceDeskColumns) {
      assert.equal(c.type, c.name.endsWith('_t') ? 'datetime' : 'string', c.name);
    }
  });

  it('asks ServiceNow only for the fields the mapping needs', () => {
    assert.ok(syncFields('Incident').includes('resolved_at'));
    assert.ok(!syncFields('Incident').includes('work_start'));
    assert.ok(syncFields('ChangeRequest').includes('requested_by'));
  });
});

describe('dates and states', () => {
  it('converts between ServiceNow UTC literals and ISO 8601', () => {
    assert.equal(snDateToIso('2026-01-02 03:04:05'), '2026-01-02T03:04:05Z');
    assert.equal(snDateToIso(''), null);
    assert.equal(snDateToIso('not a date'), null);
    assert.equal(isoToSnDate('2026-01-02T03:04:05.987Z'), '2026-01-02 03:04:05');
    assert.equal(isoToSnDate('2026-01-02T05:04:05+02:00'), '2026-01-02 03:04:05');
  });

  it('treats incident states 6, 7 and 8 as closed', () => {
    assert.deepEqual(['1', '2', '3', '6', '7', '8'].map(isIncidentClosed), [false, false, false, true, true, true]);
  });
});

describe('event severity mapping', () => {
  it('maps Sev0…Sev4 to ServiceNow 1 critical … 5 info', () => {
    assert.deepEqual(
      (['Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4'] as const).map((s) => eventSeverity(s)),
      ['1', '2', '3', '4', '5'],
    );
  });

  it('maps a resolved alert to 0 (clear), whatever its severity', () => {
    assert.equal(eventSeverity('Sev0', 'Resolved'), '0');
    assert.equal(eventSeverity('Sev4', 'Resolved'), '0');
  });
});
