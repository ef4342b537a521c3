import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { criteriaXml, escapeXml } from './criteria.ts';
import { COLUMNS, scsmDateToIso, syncFields, toServiceDeskRow, type ScsmObject } from './mapping.ts';

const obj = (fields: Record<string, [unknown, unknown?]>): ScsmObject => ({
  bmeId: '6f1c0b1e-0000-4000-8000-000000000001',
  fields: Object.entries(fields).map(([name, [value, valueDisplayName]]) => ({ name, value, valueDisplayName: valueDisplayName ?? value })),
});

describe('SCSM → ServiceDesk_CL mapping', () => {
  it('an incident maps enum GUIDs to their display names, dates to ISO UTC, and the affected CI to Computer', () => {
    const row = toServiceDeskRow(
      'Incident',
      obj({
        Id: ['IR42'],
        Title: ['Disk failure'],
        Description: ['d'],
        Status: ['5e2d3932-ca6d-1515-7310-6f58584df73e', 'Active'],
        Urgency: ['aaaa', 'High'],
        Impact: ['bbbb', 'Low'],
        Priority: [3],
        Escalated: [false],
        Source: ['cccc', 'E-Mail'],
        Classification: ['dddd', 'Hardware Problems'],
        CreatedDate: ['2026-06-15T12:00:00.5Z'],
        LastModified: ['2026-06-15T13:00:00Z'],
        ResolvedDate: [null],
        ClosedDate: [null],
      }),
      'web01.contoso.local',
    );
    assert.deepEqual(row, {
      ServiceDeskWorkItemType_s: 'Incident',
      ServiceDeskId_s: 'IR42',
      IncidentState_s: 'Active',
      Urgency_s: 'High',
      Impact_s: 'Low',
      Priority_s: '3',
      Escalation_s: 'false',
      Source_s: 'E-Mail',
      Category_s: 'Hardware Problems',
      Title_s: 'Disk failure',
      Description_s: 'd',
      CreatedDate_t: '2026-06-15T12:00:00.500Z',
      ResolvedDate_t: null,
      ClosedDate_t: null,
      LastModifiedDate_t: '2026-06-15T13:00:00.000Z',
      Computer: 'web01.contoso.local',
    });
  });

  it('a change request: Area is the category, Category the type, ActualEndDate the closed date only once Closed', () => {
    const fields = {
      Id: ['CR7'],
      Status: ['x', 'Closed'],
      Area: ['a', 'Network'],
      Category: ['c', 'Emergency'],
      Risk: ['r', 'High'],
      ActualEndDate: ['2026-06-01T10:00:00Z'],
    } as const;
    const row = toServiceDeskRow('ChangeRequest', obj(fields as unknown as Record<string, [unknown, unknown?]>), null);
    assert.equal(row.CRState_s, 'Closed');
    assert.equal(row.Category_s, 'Network');
    assert.equal(row.Type_s, 'Emergency');
    assert.equal(row.Risk_s, 'High');
    assert.equal(row.ClosedDate_t, '2026-06-01T10:00:00.000Z');
    assert.equal(row.WorkEndDate_t, '2026-06-01T10:00:00.000Z');
    assert.equal(row.IncidentState_s, undefined);
    const open = toServiceDeskRow('ChangeRequest', obj({ ...(fields as unknown as Record<string, [unknown, unknown?]>), Status: ['x', 'Completed'] }), null);
    assert.equal(open.ClosedDate_t, null);
  });

  it('dates without a zone are UTC; garbage is null; every mapped property is requested for the sync', () => {
    assert.equal(scsmDateToIso('2026-06-15T12:00:00'), '2026-06-15T12:00:00.000Z');
    assert.equal(scsmDateToIso('soon'), null);
    assert.equal(scsmDateToIso(null), null);
    for (const c of COLUMNS) if (c.incident && 'prop' in c.incident) assert.ok(syncFields('Incident').includes(c.incident.prop), c.name);
  });

  it('criteria values are XML-escaped and property names checked', () => {
    assert.equal(escapeXml(`<a href="x">&'`), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
    assert.match(criteriaXml([{ property: 'ContactMethod', operator: 'Equal', value: '</Value>' }]), /<Value>&lt;\/Value&gt;<\/Value>/);
    assert.throws(() => criteriaXml([{ property: 'a b', operator: 'Equal', value: 'x' }]), /not a property name/);
  });
});
