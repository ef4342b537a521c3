import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Value } from 'typebox/value';
import type { PartnerConfiguration } from '../partners/partner.ts';
import { serviceNowPartner } from '../partners/servicenow/descriptor.ts';
import { scsmPartner } from '../partners/scsm/index.ts';
import {
  DEFAULT_SEVERITY_MAPPING,
  normalizeTicketConfiguration,
  parseDurationSeconds,
  TicketConfigurationSchema,
  validateTicketConfiguration,
} from './ticket-config.ts';

const partner: PartnerConfiguration = {
  templates: [
    { name: 'Azure VM incident', table: 'incident', fields: { category: 'hardware' } },
    { name: 'Network incident', table: 'incident', fields: { category: 'network' } },
    { name: 'Azure event', table: 'em_event', fields: {} },
  ],
  choices: [
    ...[
      ['1', 'High'],
      ['2', 'Medium'],
      ['3', 'Low'],
    ].flatMap(([value, label]) => [
      { table: 'incident', field: 'impact', value, label },
      { table: 'incident', field: 'urgency', value, label },
    ]),
    ...['inquiry', 'software', 'hardware', 'network', 'database'].map((v) => ({
      table: 'incident',
      field: 'category',
      value: v,
      label: v[0].toUpperCase() + v.slice(1),
    })),
    ...[
      ['1', 'New'],
      ['2', 'In Progress'],
      ['3', 'On Hold'],
      ['6', 'Resolved'],
      ['7', 'Closed'],
      ['8', 'Canceled'],
    ].map(([value, label]) => ({ table: 'incident', field: 'state', value, label })),
    ...['Solution provided', 'Workaround provided', 'Duplicate'].map((v) => ({ table: 'incident', field: 'close_code', value: v, label: v })),
  ],
};

const ok = (cfg: unknown) => validateTicketConfiguration(cfg, partner);
const paths = (cfg: unknown) => ok(cfg).map((p) => p.path);

describe('ticketConfiguration: TypeBox schema', () => {
  it("accepts ITSMC's documented examples and our extensions", () => {
    for (const cfg of [
      { PayloadRevision: 0, WorkItemType: 'Incident', UseTemplate: false, WorkItemData: '{}', CreateOneWIPerCI: false },
      {
        PayloadRevision: 0,
        WorkItemType: 'Event',
        UseTemplate: false,
        WorkItemData: { contact_type: 'email', impact: '3' },
        CreateOneWIPerCI: false,
        CreateOneWIPerLog: true,
      },
      {
        WorkItemType: 'Incident',
        autoResolve: { mode: 'resolve', state: '6', closeCode: 'Solution provided', closeNotes: 'x' },
        reopenWindow: 'PT4H',
        severityMapping: { Sev0: { impact: '1', urgency: '1' } },
        noteCoalesceSeconds: 30,
      },
      { WorkItemType: 'Alert', reopenWindow: 3600 },
    ])
      assert.equal(Value.Check(TicketConfigurationSchema, cfg), true, JSON.stringify(cfg));
  });

  it('refuses unknown keys, types and out-of-range numbers', () => {
    for (const cfg of [
      { WorkItemType: 'Problem' },
      { WorkItemType: 'Incident', Extra: 1 },
      { WorkItemType: 'Incident', noteCoalesceSeconds: -1 },
      { WorkItemType: 'Incident', autoResolve: { mode: 'close' } },
      { WorkItemType: 'Incident', severityMapping: { Sev9: { impact: '1', urgency: '1' } } },
      {},
    ])
      assert.equal(Value.Check(TicketConfigurationSchema, cfg), false, JSON.stringify(cfg));
  });
});

describe('ticketConfiguration: normalization and defaults', () => {
  it('applies defaults: resolve on clear, never reopen, 60 s coalescing, default severity mapping', () => {
    const n = normalizeTicketConfiguration({ WorkItemType: 'Incident' });
    assert.deepEqual(n, {
      PayloadRevision: 0,
      WorkItemType: 'Incident',
      UseTemplate: false,
      WorkItemData: {},
      CreateOneWIPerCI: false,
      CreateOneWIPerLog: false,
      autoResolve: { mode: 'resolve' },
      reopenWindowSeconds: 0,
      severityMapping: DEFAULT_SEVERITY_MAPPING,
      severityMappingExplicit: false,
      noteCoalesceSeconds: 60,
    });
  });

  it('merges a partial severity mapping over the default', () => {
    const n = normalizeTicketConfiguration({ WorkItemType: 'Incident', severityMapping: { Sev3: { impact: '3', urgency: '3' } } });
    assert.deepEqual(n.severityMapping.Sev3, { impact: '3', urgency: '3' });
    assert.deepEqual(n.severityMapping.Sev0, DEFAULT_SEVERITY_MAPPING.Sev0);
    assert.equal(n.severityMappingExplicit, true);
  });

  it('parses reopen windows as seconds or ISO 8601 durations', () => {
    const cases: Array<[unknown, number | undefined]> = [
      [0, 0],
      [3600, 3600],
      ['900', 900],
      ['PT4H', 14400],
      ['P1D', 86400],
      ['P1DT12H', 129600],
      ['PT90S', 90],
      ['PT1.5S', 1],
      ['P2W', 1209600],
      ['pt30m', 1800],
      ['P1M', undefined],
      ['P1Y', undefined],
      ['P', undefined],
      ['PT', undefined],
      ['4h', undefined],
      [-5, undefined],
      [null, undefined],
    ];
    for (const [v, want] of cases) assert.equal(parseDurationSeconds(v), want, JSON.stringify(v));
  });
});

describe('ticketConfiguration: validation against the partner configuration', () => {
  it('accepts a valid configuration', () => {
    assert.deepEqual(
      ok({
        PayloadRevision: 0,
        WorkItemType: 'Incident',
        UseTemplate: true,
        TemplateName: 'Azure VM incident',
        WorkItemData: { category: 'software', impact: '2', assignment_group: '{{alert.labels.team}}' },
        autoResolve: { mode: 'resolve', state: '6', closeCode: 'Solution provided', closeNotes: 'Cleared: {{alert.rule}}' },
        reopenWindow: 'PT1H',
        severityMapping: { Sev0: { impact: '1', urgency: '1' } },
        noteCoalesceSeconds: 120,
      }),
      [],
    );
  });

  it('names the valid templates for an unknown template', () => {
    const [p] = ok({ WorkItemType: 'Incident', UseTemplate: true, TemplateName: 'Nope' });
    assert.equal(p.path, 'TemplateName');
    assert.deepEqual(p.allowed, ['Azure VM incident', 'Network incident']);
    assert.match(p.message, /unknown template "Nope"; templates for Incident: Azure VM incident, Network incident/);
  });

  it('says when a template belongs to another work item type, or differs only by case', () => {
    assert.match(ok({ WorkItemType: 'Incident', UseTemplate: true, TemplateName: 'Azure event' })[0].message, /is for table em_event, not Incident/);
    assert.match(ok({ WorkItemType: 'Incident', UseTemplate: true, TemplateName: 'azure vm INCIDENT' })[0].message, /did you mean "Azure VM incident"/);
    assert.deepEqual(paths({ WorkItemType: 'Incident', UseTemplate: true }), ['TemplateName']);
  });

  it('lists valid choice values for an unknown impact, urgency, category, state or close code', () => {
    const probs = ok({
      WorkItemType: 'Incident',
      WorkItemData: { impact: '5', category: 'printers' },
      autoResolve: { state: '4', closeCode: 'Fixed it' },
      severityMapping: { Sev1: { impact: '1', urgency: '9' } },
    });
    const byPath = Object.fromEntries(probs.map((p) => [p.path, p]));
    assert.deepEqual(Object.keys(byPath).sort(), [
      'WorkItemData.category',
      'WorkItemData.impact',
      'autoResolve.closeCode',
      'autoResolve.state',
      'severityMapping.Sev1.urgency',
    ]);
    assert.deepEqual(byPath['WorkItemData.impact'].allowed, ['1', '2', '3']);
    assert.match(byPath['WorkItemData.impact'].message, /"5" is not a valid impact\. Valid: 1 \(High\), 2 \(Medium\), 3 \(Low\)/);
    assert.deepEqual(byPath['autoResolve.state'].allowed, ['1', '2', '3', '6', '7', '8']);
    assert.deepEqual(byPath['autoResolve.closeCode'].allowed, ['Solution provided', 'Workaround provided', 'Duplicate']);
    assert.deepEqual(byPath['WorkItemData.category'].allowed, ['inquiry', 'software', 'hardware', 'network', 'database']);
  });

  it('points out a choice label used where the value is needed', () => {
    const [p] = ok({ WorkItemType: 'Incident', WorkItemData: { urgency: 'High' } });
    assert.match(p.message, /"High" is the label of urgency value "1"; use the value/);
  });

  it('does not check free-text fields or fields without a choice list', () => {
    assert.deepEqual(ok({ WorkItemType: 'Incident', WorkItemData: { short_description: 'anything', u_custom: 'x' } }), []);
  });

  it('reports unknown placeholders with the valid ones, and row placeholders outside per-row mode', () => {
    const probs = ok({
      WorkItemType: 'Incident',
      WorkItemData: { description: '{{alert.rool}}', node: '{{row.Computer}}' },
      autoResolve: { closeNotes: '{{alert.x}}' },
    });
    assert.deepEqual(
      probs.map((p) => p.path),
      ['WorkItemData.description', 'WorkItemData.node', 'autoResolve.closeNotes'],
    );
    assert.match(probs[0].message, /unknown placeholder "\{\{alert.rool\}\}"; valid placeholders: \{\{alert.rule\}\}/);
    assert.ok(probs[0].allowed?.includes('alert.rule'));
    assert.match(probs[1].message, /needs CreateOneWIPerLog/);
    assert.deepEqual(ok({ WorkItemType: 'Event', CreateOneWIPerLog: true, WorkItemData: { node: '{{row.Computer}}' } }), []);
  });

  it('refuses CreateOneWIPerCI together with CreateOneWIPerLog', () => {
    assert.deepEqual(paths({ WorkItemType: 'Event', CreateOneWIPerCI: true, CreateOneWIPerLog: true }), ['CreateOneWIPerLog']);
  });

  it('refuses work item types the partner cannot create', () => {
    const [p] = validateTicketConfiguration({ WorkItemType: 'Event' }, partner, { partner: scsmPartner });
    assert.equal(p.path, 'WorkItemType');
    assert.deepEqual(p.allowed, ['Incident']);
    assert.deepEqual(validateTicketConfiguration({ WorkItemType: 'Alert' }, partner, { partner: serviceNowPartner }), []);
  });

  it('reports structural problems on raw input', () => {
    assert.deepEqual(ok(null), [{ path: '', message: 'ticketConfiguration must be an object' }]);
    assert.deepEqual(
      paths({
        WorkItemType: 'Problem',
        Foo: 1,
        UseTemplate: 'yes',
        WorkItemData: '{not json',
        reopenWindow: 'P1M',
        noteCoalesceSeconds: 1.5,
        autoResolve: { mode: 'close' },
      }).sort(),
      ['Foo', 'UseTemplate', 'WorkItemData', 'WorkItemType', 'autoResolve.mode', 'noteCoalesceSeconds', 'reopenWindow'],
    );
    assert.deepEqual(paths({ WorkItemType: 'Incident', WorkItemData: { __proto__x: 'ok', 'bad field': 'x' } }), ['WorkItemData.bad field']);
    assert.deepEqual(paths({ WorkItemType: 'Incident', severityMapping: { Sev7: {}, Sev1: { impact: '' } } }).sort(), [
      'severityMapping.Sev1.impact',
      'severityMapping.Sev1.urgency',
      'severityMapping.Sev7',
    ]);
  });

  it('refuses WorkItemData carrying prototype keys', () => {
    assert.deepEqual(paths({ WorkItemType: 'Incident', WorkItemData: JSON.parse('{"__proto__":{"x":"1"}}') }), ['WorkItemData']);
  });
});
